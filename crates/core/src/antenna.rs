//! An antenna's reference data: its item catalogue, its places and its
//! volunteers. Entries are validated against it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Invalid;
use crate::ids::{AntennaId, ItemId, Nickname, PlaceId};
use crate::limits::{self, MAX_SIZES, SHORT_TEXT};

/// A label in the two languages the interface speaks from the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Label {
    pub fr: String,
    pub en: String,
}

impl Label {
    pub fn new(fr: &str, en: &str) -> Self {
        Self {
            fr: fr.to_string(),
            en: en.to_string(),
        }
    }

    pub fn get(&self, lang: crate::Lang) -> &str {
        match lang {
            crate::Lang::Fr => &self.fr,
            crate::Lang::En => &self.en,
        }
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        for (field, s) in [("French label", &self.fr), ("English label", &self.en)] {
            if s.trim().is_empty() {
                return Err(Invalid::Empty { field });
            }
            limits::check_text(field, s, SHORT_TEXT)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CatalogueItem {
    pub label: Label,
    /// Sizes a distribution of this item must name (shoes: 38…46); empty when
    /// the item has no sizes.
    #[serde(default)]
    pub sizes: Vec<String>,
    /// Retired items stay in the catalogue so that old entries keep their
    /// label, but cannot be logged any more.
    #[serde(default = "yes")]
    pub active: bool,
    /// Position on the quick-log screen.
    #[serde(default)]
    pub order: u32,
    /// What the warehouse keeps on its shelves at least: the needs list
    /// asks for what would go below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<u32>,
}

impl CatalogueItem {
    /// Its labels, and sizes that fit a volunteer's screen: each short,
    /// and not more than shoes need.
    pub fn validate(&self) -> Result<(), Invalid> {
        self.label.validate()?;
        if self.sizes.len() > MAX_SIZES {
            return Err(Invalid::TooMany {
                field: "sizes",
                max: MAX_SIZES,
                given: self.sizes.len(),
            });
        }
        for size in &self.sizes {
            limits::check_text("size", size, SHORT_TEXT)?;
        }
        Ok(())
    }
}

fn yes() -> bool {
    true
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    LivingPlace,
    DistributionPoint,
    Station,
    Beach,
    DayCentre,
    Other,
}

impl PlaceKind {
    /// Its code, as exports and the store write it.
    pub fn code(self) -> &'static str {
        match self {
            PlaceKind::LivingPlace => "living_place",
            PlaceKind::DistributionPoint => "distribution_point",
            PlaceKind::Station => "station",
            PlaceKind::Beach => "beach",
            PlaceKind::DayCentre => "day_centre",
            PlaceKind::Other => "other",
        }
    }

    /// The line of a period report that adds up old shifts' figures kept
    /// by place kind only.
    pub fn older_figures_label(self, lang: crate::Lang) -> String {
        let (fr, en) = match self {
            PlaceKind::LivingPlace => ("Lieux de vie", "Living places"),
            PlaceKind::DistributionPoint => ("Points de distribution", "Distribution points"),
            PlaceKind::Station => ("Gares", "Stations"),
            PlaceKind::Beach => ("Plages", "Beaches"),
            PlaceKind::DayCentre => ("Accueils de jour", "Day centres"),
            PlaceKind::Other => ("Autres lieux", "Other places"),
        };
        match lang {
            crate::Lang::Fr => format!("{fr} (anciennes maraudes, par type)"),
            crate::Lang::En => format!("{en} (older shifts, by kind)"),
        }
    }
}

/// A kind by its code, as exports write it (`living_place`, `day_centre`):
/// serde's names, read without a JSON round, so that there is one list of
/// codes.
impl std::str::FromStr for PlaceKind {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        use serde::de::IntoDeserializer;
        use serde::de::value::Error;
        // No code is longer: a longer text is unknown, and not repeated
        // whole in the message.
        let given: String = s.trim().chars().take(60).collect();
        let code: serde::de::value::StrDeserializer<'_, Error> = given.as_str().into_deserializer();
        Self::deserialize(code).map_err(|e| Invalid::UnknownCode {
            field: "place kind",
            why: e.to_string(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Place {
    pub name: String,
    pub kind: PlaceKind,
    #[serde(default = "yes")]
    pub active: bool,
}

impl Place {
    /// A name the team can read on one line of the place list.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.name.trim().is_empty() {
            return Err(Invalid::Empty {
                field: "place name",
            });
        }
        limits::check_text("place name", &self.name, SHORT_TEXT)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Volunteer,
    Lead,
    Coordinator,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Volunteer {
    pub role: Role,
    #[serde(default = "yes")]
    pub active: bool,
}

/// Antenna settings that change behaviour everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Settings {
    /// Closed cases are erased this many days after closure.
    pub retention_days: u32,
    /// The figures a lead's tablet keeps of shifts older than its detail
    /// window name each place's kind only, not the place: a seized
    /// tablet then does not say where the antenna went, night after
    /// night, over the year. Off unless set (and then not written, so
    /// that antennas that never set it keep their documents as they were).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub old_places_by_kind: bool,
    /// After this many minutes without an entry at the current place, the
    /// quick log asks "still at …?" before the next one (the van may have
    /// driven on); 0: never.
    #[serde(
        default = "Settings::place_reminder_default",
        skip_serializing_if = "Settings::is_place_reminder_default"
    )]
    pub place_reminder_minutes: u32,
}

impl Settings {
    pub const PLACE_REMINDER_MINUTES: u32 = 20;
    /// The longest a place reminder may wait: a day.
    pub const PLACE_REMINDER_MAX: u32 = 24 * 60;

    /// Settings a tablet can act on.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.place_reminder_minutes > Self::PLACE_REMINDER_MAX {
            return Err(Invalid::OutOfRange {
                field: "place reminder (minutes; 0 for never)",
                min: 0,
                max: Self::PLACE_REMINDER_MAX,
                given: self.place_reminder_minutes.into(),
            });
        }
        Ok(())
    }

    fn place_reminder_default() -> u32 {
        Self::PLACE_REMINDER_MINUTES
    }

    fn is_place_reminder_default(minutes: &u32) -> bool {
        *minutes == Self::PLACE_REMINDER_MINUTES
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            retention_days: 30,
            old_places_by_kind: false,
            place_reminder_minutes: Self::PLACE_REMINDER_MINUTES,
        }
    }
}

/// The reference data of one antenna, as held in its antenna document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Antenna {
    pub id: AntennaId,
    pub name: String,
    pub catalogue: BTreeMap<ItemId, CatalogueItem>,
    pub places: BTreeMap<PlaceId, Place>,
    pub volunteers: BTreeMap<Nickname, Volunteer>,
    #[serde(default)]
    pub settings: Settings,
}

impl Antenna {
    /// A new antenna with the default catalogue and no places yet.
    pub fn new(name: &str) -> Result<Self, Invalid> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Invalid::Empty {
                field: "antenna name",
            });
        }
        limits::check_text("antenna name", name, SHORT_TEXT)?;
        Ok(Self {
            id: AntennaId::new(),
            name: name.to_string(),
            catalogue: default_catalogue(),
            places: BTreeMap::new(),
            volunteers: BTreeMap::new(),
            settings: Settings::default(),
        })
    }

    /// The item, if it can be logged now.
    pub fn loggable_item(&self, id: &ItemId) -> Result<&CatalogueItem, Invalid> {
        match self.catalogue.get(id) {
            Some(item) if item.active => Ok(item),
            Some(_) => Err(Invalid::RetiredItem {
                item: id.to_string(),
            }),
            None => Err(Invalid::UnknownItem {
                given: id.to_string(),
                antenna: self.name.clone(),
                known: self.known_items(),
            }),
        }
    }

    /// Parse and check an item typed by a volunteer.
    pub fn item(&self, given: &str) -> Result<ItemId, Invalid> {
        let unknown = || Invalid::UnknownItem {
            given: given.to_string(),
            antenna: self.name.clone(),
            known: self.known_items(),
        };
        let id: ItemId = given.parse().map_err(|_| unknown())?;
        self.loggable_item(&id)?;
        Ok(id)
    }

    pub fn place(&self, given: &str) -> Result<PlaceId, Invalid> {
        let unknown = || Invalid::UnknownPlace {
            given: given.to_string(),
            antenna: self.name.clone(),
            known: self.known_places(),
        };
        let id: PlaceId = given.parse().map_err(|_| unknown())?;
        match self.places.get(&id) {
            Some(p) if p.active => Ok(id),
            _ => Err(unknown()),
        }
    }

    pub fn check_place(&self, id: &PlaceId) -> Result<(), Invalid> {
        self.place(id.as_str()).map(|_| ())
    }

    fn known_items(&self) -> String {
        let mut items: Vec<_> = self.catalogue.iter().filter(|(_, i)| i.active).collect();
        items.sort_by_key(|(id, i)| (i.order, (*id).clone()));
        let names: Vec<&str> = items.iter().map(|(id, _)| id.as_str()).collect();
        if names.is_empty() {
            "(none)".into()
        } else {
            names.join(", ")
        }
    }

    fn known_places(&self) -> String {
        let names: Vec<&str> = self
            .places
            .iter()
            .filter(|(_, p)| p.active)
            .map(|(id, _)| id.as_str())
            .collect();
        if names.is_empty() {
            "(none yet: a lead adds the antenna's places)".into()
        } else {
            names.join(", ")
        }
    }

    /// The label to show for an item, falling back to its id for items
    /// that arrived from a newer catalogue.
    pub fn item_label(&self, id: &ItemId, lang: crate::Lang) -> String {
        self.catalogue
            .get(id)
            .map(|i| i.label.get(lang).to_string())
            .unwrap_or_else(|| id.to_string())
    }

    /// Adds a place found in the field (any tablet may, see
    /// `authority::check_reference_data`): its id made from its name
    /// (`Parking Lidl` → `parking-lidl`, then `-2`, `-3` when taken). A
    /// name an active place already has gives that place, not a second one.
    pub fn add_place(&mut self, name: &str, kind: PlaceKind) -> Result<PlaceId, Invalid> {
        let place = Place {
            name: name.trim().to_string(),
            kind,
            active: true,
        };
        place.validate()?;
        let same = |p: &Place| p.active && p.name.to_lowercase() == place.name.to_lowercase();
        if let Some((id, _)) = self.places.iter().find(|(_, p)| same(p)) {
            return Ok(id.clone());
        }
        // Ids are 40 characters at most: room for a number after.
        let slug: String = slug::slugify(&place.name).chars().take(34).collect();
        let base = match slug.trim_matches('-') {
            "" => "place",
            base => base,
        };
        let id = (1..)
            .map(|n| match n {
                1 => base.to_string(),
                n => format!("{base}-{n}"),
            })
            .filter_map(|id| id.parse::<PlaceId>().ok())
            .find(|id| !self.places.contains_key(id))
            .ok_or(Invalid::Empty {
                field: "place name",
            })?;
        self.places.insert(id.clone(), place);
        Ok(id)
    }

    pub fn place_name(&self, id: &PlaceId) -> String {
        self.places
            .get(id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

/// One change to the reference data, as a lead or coordinator makes it
/// from the app or the CLI ([`Antenna::apply`]). Who may make which is
/// `authority::check_reference_data`'s to say, on the tablet and on every
/// receiver: anyone adds a place, leads add and retire volunteers, the
/// rest is the coordinator's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ReferenceChange {
    /// Add an item, or change its labels and sizes (its place on the quick
    /// log and its minimum stay).
    Item {
        id: ItemId,
        label: Label,
        sizes: Vec<String>,
    },
    /// One step up (or down) the quick log.
    MoveItem { id: ItemId, up: bool },
    /// Retire an item (old entries keep it), or bring it back.
    ItemActive { id: ItemId, active: bool },
    /// The least the warehouse keeps of it (`None` or 0: no minimum).
    ItemMinimum { id: ItemId, minimum: Option<u32> },
    /// Add a place under this id, or rename it and change its kind.
    Place {
        id: PlaceId,
        name: String,
        kind: PlaceKind,
    },
    /// Retire a place (a camp dismantled), or bring it back.
    PlaceActive { id: PlaceId, active: bool },
    /// Add a volunteer, or change their role.
    Volunteer { nickname: Nickname, role: Role },
    /// A volunteer who left (their past entries keep their nickname), or
    /// came back.
    VolunteerActive { nickname: Nickname, active: bool },
    /// The antenna's settings, all at once (a coordinator's).
    Settings { settings: Settings },
}

impl Antenna {
    /// Make one change to the reference data, checked as a whole: nothing
    /// is changed when it is refused.
    pub fn apply(&mut self, change: &ReferenceChange) -> Result<(), Invalid> {
        match change {
            ReferenceChange::Item { id, label, sizes } => {
                let mut kept: Vec<String> = Vec::new();
                for size in sizes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
                    if !kept.iter().any(|k| k == size) {
                        kept.push(size.to_string());
                    }
                }
                let next = self
                    .catalogue
                    .values()
                    .map(|i| i.order + 1)
                    .max()
                    .unwrap_or(0);
                let old = self.catalogue.get(id);
                let item = CatalogueItem {
                    label: Label::new(label.fr.trim(), label.en.trim()),
                    sizes: kept,
                    active: old.is_none_or(|i| i.active),
                    order: old.map_or(next, |i| i.order),
                    minimum: old.and_then(|i| i.minimum),
                };
                item.validate()?;
                self.catalogue.insert(id.clone(), item);
            }
            ReferenceChange::MoveItem { id, up } => {
                self.known_item(id)?;
                let mut order: Vec<ItemId> = self.catalogue.keys().cloned().collect();
                order.sort_by_key(|i| {
                    (
                        !self.catalogue[i].active,
                        self.catalogue[i].order,
                        i.clone(),
                    )
                });
                let at = order.iter().position(|i| i == id).unwrap_or(0);
                let to = if *up { at.checked_sub(1) } else { Some(at + 1) };
                if let Some(to) = to.filter(|to| *to < order.len()) {
                    order.swap(at, to);
                }
                for (n, i) in order.iter().enumerate() {
                    if let Some(item) = self.catalogue.get_mut(i) {
                        item.order = n as u32;
                    }
                }
            }
            ReferenceChange::ItemActive { id, active } => {
                self.known_item(id)?;
                if let Some(item) = self.catalogue.get_mut(id) {
                    item.active = *active;
                }
            }
            ReferenceChange::ItemMinimum { id, minimum } => {
                self.known_item(id)?;
                if let Some(item) = self.catalogue.get_mut(id) {
                    item.minimum = minimum.filter(|n| *n > 0);
                }
            }
            ReferenceChange::Place { id, name, kind } => {
                let place = Place {
                    name: name.trim().to_string(),
                    kind: *kind,
                    active: self.places.get(id).is_none_or(|p| p.active),
                };
                place.validate()?;
                self.places.insert(id.clone(), place);
            }
            ReferenceChange::PlaceActive { id, active } => match self.places.get_mut(id) {
                Some(place) => place.active = *active,
                None => {
                    return Err(Invalid::UnknownPlace {
                        given: id.to_string(),
                        antenna: self.name.clone(),
                        known: self.known_places(),
                    });
                }
            },
            ReferenceChange::Volunteer { nickname, role } => {
                self.volunteers.insert(
                    nickname.clone(),
                    Volunteer {
                        role: *role,
                        active: true,
                    },
                );
            }
            ReferenceChange::Settings { settings } => {
                settings.validate()?;
                self.settings = settings.clone();
            }
            ReferenceChange::VolunteerActive { nickname, active } => {
                let known = self
                    .volunteers
                    .keys()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                match self.volunteers.get_mut(nickname) {
                    Some(v) => v.active = *active,
                    None => {
                        return Err(Invalid::UnknownVolunteer {
                            given: nickname.to_string(),
                            known,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// An item of the catalogue, retired or not.
    fn known_item(&self, id: &ItemId) -> Result<(), Invalid> {
        if self.catalogue.contains_key(id) {
            Ok(())
        } else {
            Err(Invalid::UnknownItem {
                given: id.to_string(),
                antenna: self.name.clone(),
                known: self.known_items(),
            })
        }
    }
}

/// The field guide's default catalogue; an antenna edits it afterwards.
pub fn default_catalogue() -> BTreeMap<ItemId, CatalogueItem> {
    let shoe_sizes: Vec<String> = (36..=46).map(|n| n.to_string()).collect();
    let rows: [(&str, &str, &str, &[String]); 23] = [
        ("hot_meal", "Repas chaud", "Hot meal", &[]),
        ("tea_coffee", "Thé / café", "Tea / coffee", &[]),
        ("water", "Eau", "Water", &[]),
        ("food_pack", "Colis alimentaire", "Food pack", &[]),
        (
            "hygiene_kit_men",
            "Kit hygiène (hommes)",
            "Hygiene kit (men)",
            &[],
        ),
        (
            "hygiene_kit_women",
            "Kit hygiène (femmes)",
            "Hygiene kit (women)",
            &[],
        ),
        (
            "menstrual_products",
            "Protections périodiques",
            "Menstrual products",
            &[],
        ),
        ("baby_kit", "Kit bébé", "Baby kit", &[]),
        ("blanket", "Couverture", "Blanket", &[]),
        ("sleeping_bag", "Sac de couchage", "Sleeping bag", &[]),
        ("tent", "Tente", "Tent", &[]),
        ("tarpaulin", "Bâche", "Tarpaulin", &[]),
        ("jacket", "Veste", "Jacket", &[]),
        ("trousers", "Pantalon", "Trousers", &[]),
        ("shoes", "Chaussures", "Shoes", &shoe_sizes),
        ("socks", "Chaussettes", "Socks", &[]),
        ("underwear", "Sous-vêtements", "Underwear", &[]),
        ("hat_gloves", "Bonnet et gants", "Hat and gloves", &[]),
        ("power_bank", "Recharge batterie", "Power bank charge", &[]),
        ("sim_card", "Carte SIM", "SIM card", &[]),
        ("firewood", "Sac de bois", "Firewood bag", &[]),
        ("first_aid", "Premiers soins", "First-aid care", &[]),
        ("other", "Autre", "Other", &[]),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (id, fr, en, sizes))| {
            let id =
                ItemId::try_from((*id).to_string()).expect("default catalogue ids are valid slugs");
            let item = CatalogueItem {
                label: Label::new(fr, en),
                sizes: sizes.to_vec(),
                active: true,
                order: i as u32,
                minimum: None,
            };
            (id, item)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_place_added_in_the_field_gets_its_id_from_its_name_and_is_never_doubled() {
        let mut a = Antenna::new("Calais").unwrap();
        let lidl = a
            .add_place("  Parking Lidl ", PlaceKind::DistributionPoint)
            .unwrap();
        assert_eq!(lidl.as_str(), "parking-lidl");
        assert_eq!(a.places[&lidl].name, "Parking Lidl");
        // The same name again is the same place.
        assert_eq!(
            a.add_place("parking lidl", PlaceKind::LivingPlace).unwrap(),
            lidl
        );
        assert_eq!(a.places.len(), 1);
        // Accents go; a taken id gets a number; a retired place's name is free.
        let church = a
            .add_place("Église Saint-Pierre", PlaceKind::Other)
            .unwrap();
        assert_eq!(church.as_str(), "eglise-saint-pierre");
        a.places.get_mut(&church).unwrap().active = false;
        let again = a
            .add_place("Église Saint-Pierre", PlaceKind::Other)
            .unwrap();
        assert_eq!(again.as_str(), "eglise-saint-pierre-2");
        // A name with no letter still gets an id; an empty one is refused.
        assert_eq!(
            a.add_place("★★", PlaceKind::Other).unwrap().as_str(),
            "place"
        );
        assert!(a.add_place("   ", PlaceKind::Other).is_err());
        let long = a
            .add_place(&"Très long ".repeat(7), PlaceKind::Other)
            .unwrap();
        assert!(long.as_str().len() <= 40, "{long}");
    }

    use super::*;

    #[test]
    fn a_misspelt_item_names_the_known_ones() {
        let a = Antenna::new("Calais").unwrap();
        let err = a.item("blankett").unwrap_err().to_string();
        assert!(
            err.contains("unknown item \"blankett\" in antenna Calais"),
            "{err}"
        );
        assert!(err.contains("blanket, sleeping_bag"), "{err}");
    }

    #[test]
    fn a_place_kind_is_read_by_the_code_an_export_writes() {
        for kind in [
            PlaceKind::LivingPlace,
            PlaceKind::DistributionPoint,
            PlaceKind::Station,
            PlaceKind::Beach,
            PlaceKind::DayCentre,
            PlaceKind::Other,
        ] {
            let code = serde_json::to_value(kind).unwrap();
            let code = code.as_str().unwrap();
            // The store's code is serde's.
            assert_eq!(kind.code(), code);
            assert_eq!(code.parse::<PlaceKind>(), Ok(kind), "{code}");
            assert_eq!(format!(" {code} ").parse::<PlaceKind>(), Ok(kind));
        }
        let err = "beack".parse::<PlaceKind>().unwrap_err().to_string();
        assert!(
            err.starts_with("place kind: unknown variant `beack`"),
            "{err}"
        );
        assert!(
            err.contains("`living_place`, `distribution_point`"),
            "{err}"
        );
        let err = "x".repeat(10_000).parse::<PlaceKind>().unwrap_err();
        assert!(err.to_string().len() < 300, "{err}");
    }

    #[test]
    fn an_item_with_too_many_or_too_long_sizes_is_refused() {
        let mut item = default_catalogue()[&"shoes".parse::<ItemId>().unwrap()].clone();
        assert_eq!(item.validate(), Ok(()));
        item.sizes = (0..=MAX_SIZES).map(|n| n.to_string()).collect();
        assert!(matches!(item.validate(), Err(Invalid::TooMany { .. })));
        item.sizes = vec!["4".repeat(SHORT_TEXT + 1)];
        assert!(matches!(item.validate(), Err(Invalid::TooLong { .. })));
        item.sizes = vec!["42\u{0}".into()];
        assert!(matches!(item.validate(), Err(Invalid::BadText { .. })));
    }

    #[test]
    fn a_place_needs_a_name() {
        let mut place = Place {
            name: " ".into(),
            kind: PlaceKind::Beach,
            active: true,
        };
        assert_eq!(
            place.validate(),
            Err(Invalid::Empty {
                field: "place name"
            })
        );
        place.name = "Plage de Sangatte".into();
        assert_eq!(place.validate(), Ok(()));
    }

    #[test]
    fn a_retired_item_cannot_be_logged_but_keeps_its_label() {
        let mut a = Antenna::new("Calais").unwrap();
        let tent: ItemId = "tent".parse().unwrap();
        a.catalogue.get_mut(&tent).unwrap().active = false;
        assert!(matches!(a.item("tent"), Err(Invalid::RetiredItem { .. })));
        assert_eq!(a.item_label(&tent, crate::Lang::Fr), "Tente");
    }

    #[test]
    fn reference_changes_keep_what_they_do_not_name_and_refuse_whole() {
        use super::ReferenceChange as C;
        let mut a = Antenna::new("Calais").unwrap();
        let (poncho, blanket): (ItemId, ItemId) =
            ("rain_poncho".parse().unwrap(), "blanket".parse().unwrap());
        a.catalogue.get_mut(&blanket).unwrap().minimum = Some(200);
        // A new item goes last on the quick log; sizes trimmed, no doubles.
        a.apply(&C::Item {
            id: poncho.clone(),
            label: Label::new(" Poncho ", "Rain poncho"),
            sizes: vec!["M".into(), " L ".into(), "M".into(), " ".into()],
        })
        .unwrap();
        let last = a.catalogue.values().map(|i| i.order).max().unwrap();
        assert_eq!(a.catalogue[&poncho].order, last);
        assert_eq!(a.catalogue[&poncho].sizes, ["M", "L"]);
        assert_eq!(a.catalogue[&poncho].label.fr, "Poncho");
        // Relabelled, a blanket keeps its minimum and its place.
        let order = a.catalogue[&blanket].order;
        a.apply(&C::Item {
            id: blanket.clone(),
            label: Label::new("Couverture polaire", "Fleece blanket"),
            sizes: vec![],
        })
        .unwrap();
        assert_eq!(a.catalogue[&blanket].minimum, Some(200));
        assert_eq!(a.catalogue[&blanket].order, order);
        // Up one step: it swaps with the one before, and the first stays first.
        let first = |a: &Antenna| {
            let mut items: Vec<_> = a.catalogue.iter().collect();
            items.sort_by_key(|(id, i)| (!i.active, i.order, (*id).clone()));
            items
                .iter()
                .map(|(id, _)| (*id).clone())
                .collect::<Vec<ItemId>>()
        };
        let before = first(&a);
        a.apply(&C::MoveItem {
            id: poncho.clone(),
            up: true,
        })
        .unwrap();
        let after = first(&a);
        let at = after.iter().position(|i| *i == poncho).unwrap();
        assert_eq!(after[at + 1], before[before.len() - 2]);
        let top = after[0].clone();
        a.apply(&C::MoveItem {
            id: top.clone(),
            up: true,
        })
        .unwrap();
        assert_eq!(first(&a)[0], top);
        // Retired and back.
        a.apply(&C::ItemActive {
            id: poncho.clone(),
            active: false,
        })
        .unwrap();
        assert!(matches!(
            a.item("rain_poncho"),
            Err(Invalid::RetiredItem { .. })
        ));
        a.apply(&C::ItemActive {
            id: poncho.clone(),
            active: true,
        })
        .unwrap();
        assert!(a.item("rain_poncho").is_ok());
        // Bad input changes nothing.
        let kept = a.clone();
        let empty = C::Item {
            id: poncho.clone(),
            label: Label::new("", "Rain poncho"),
            sizes: vec![],
        };
        assert_eq!(a.apply(&empty).unwrap_err().code(), "empty");
        let unknown = C::ItemActive {
            id: "sledge".parse().unwrap(),
            active: false,
        };
        assert_eq!(a.apply(&unknown).unwrap_err().code(), "unknown_item");
        let nobody = C::VolunteerActive {
            nickname: "Zed".parse().unwrap(),
            active: false,
        };
        assert_eq!(a.apply(&nobody).unwrap_err().code(), "unknown_volunteer");
        let nowhere = C::PlaceActive {
            id: "moon".parse().unwrap(),
            active: false,
        };
        assert_eq!(a.apply(&nowhere).unwrap_err().code(), "unknown_place");
        assert_eq!(a, kept);
        // A place renamed keeps being retired if it was.
        let dunes: PlaceId = "dunes".parse().unwrap();
        a.apply(&C::Place {
            id: dunes.clone(),
            name: "Dunes".into(),
            kind: PlaceKind::LivingPlace,
        })
        .unwrap();
        a.apply(&C::PlaceActive {
            id: dunes.clone(),
            active: false,
        })
        .unwrap();
        a.apply(&C::Place {
            id: dunes.clone(),
            name: "Dunes (ouest)".into(),
            kind: PlaceKind::Beach,
        })
        .unwrap();
        assert!(!a.places[&dunes].active);
        assert_eq!(a.places[&dunes].name, "Dunes (ouest)");
        // A volunteer who left, and came back.
        let jo: Nickname = "Jo".parse().unwrap();
        a.apply(&C::Volunteer {
            nickname: jo.clone(),
            role: Role::Lead,
        })
        .unwrap();
        a.apply(&C::VolunteerActive {
            nickname: jo.clone(),
            active: false,
        })
        .unwrap();
        assert!(!a.volunteers[&jo].active);
        assert_eq!(a.volunteers[&jo].role, Role::Lead);
    }
}
