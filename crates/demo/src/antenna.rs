//! The demo antenna: invented living places, distribution points and
//! volunteers, in the shape of a coastal antenna between Calais and
//! Grande-Synthe. No name here is a real camp or a real person.

use maraude_core::Invalid;
use maraude_core::antenna::{Antenna, Place, PlaceKind, Role, Volunteer};
use maraude_core::ids::{Nickname, PlaceId};

/// slug, name, kind, people usually living or gathering there.
const PLACES: [(&str, &str, PlaceKind, f64); 13] = [
    ("dunes-nord", "Dunes nord", PlaceKind::LivingPlace, 260.0),
    (
        "zi-dunes",
        "Zone industrielle des Dunes",
        PlaceKind::LivingPlace,
        180.0,
    ),
    (
        "pont-hopital",
        "Pont de l'hôpital",
        PlaceKind::LivingPlace,
        90.0,
    ),
    (
        "bois-citadelle",
        "Bois de la Citadelle",
        PlaceKind::LivingPlace,
        130.0,
    ),
    ("lac-moulin", "Lac du Moulin", PlaceKind::LivingPlace, 300.0),
    (
        "berges-canal",
        "Berges du canal",
        PlaceKind::LivingPlace,
        80.0,
    ),
    (
        "squat-tanneurs",
        "Squat des Tanneurs",
        PlaceKind::LivingPlace,
        60.0,
    ),
    (
        "hangar-chemin-vert",
        "Hangar du Chemin vert",
        PlaceKind::LivingPlace,
        50.0,
    ),
    ("gare", "Gare", PlaceKind::Station, 45.0),
    (
        "plage-gravelines",
        "Plage de Gravelines",
        PlaceKind::Beach,
        35.0,
    ),
    (
        "parking-stade",
        "Parking du stade",
        PlaceKind::DistributionPoint,
        160.0,
    ),
    (
        "distribution-est",
        "Point de distribution Est",
        PlaceKind::DistributionPoint,
        140.0,
    ),
    (
        "accueil-jour",
        "Accueil de jour",
        PlaceKind::DayCentre,
        70.0,
    ),
];

const VOLUNTEERS: [(&str, Role); 16] = [
    ("Camille", Role::Coordinator),
    ("Malik", Role::Lead),
    ("Jo", Role::Lead),
    ("Inès", Role::Lead),
    ("Thomas R", Role::Lead),
    ("Léa", Role::Volunteer),
    ("Youssef", Role::Volunteer),
    ("Maëlle", Role::Volunteer),
    ("Ben", Role::Volunteer),
    ("Sophie", Role::Volunteer),
    ("Hugo", Role::Volunteer),
    ("Aïcha", Role::Volunteer),
    ("Tom (UK)", Role::Volunteer),
    ("Clara", Role::Volunteer),
    ("Nico", Role::Volunteer),
    ("Rosie", Role::Volunteer),
];

/// The demo's places: eight living places, the station, a beach, two
/// distribution points and the day centre.
pub fn places() -> Vec<(PlaceId, Place)> {
    PLACES
        .iter()
        .map(|(slug, name, kind, _)| {
            let id = slug.parse().expect("demo place ids are valid slugs");
            let place = Place {
                name: (*name).to_string(),
                kind: *kind,
                active: true,
            };
            (id, place)
        })
        .collect()
}

/// The demo's volunteers by nickname: a coordinator, four leads and eleven
/// volunteers.
pub fn volunteers() -> Vec<(Nickname, Volunteer)> {
    VOLUNTEERS
        .iter()
        .map(|(nick, role)| {
            let nick = (*nick).parse().expect("demo nicknames are valid");
            let volunteer = Volunteer {
                role: *role,
                active: true,
            };
            (nick, volunteer)
        })
        .collect()
}

/// A new antenna named `name` with the default catalogue, the demo places
/// and the demo volunteers.
pub fn demo_antenna(name: &str) -> Result<Antenna, Invalid> {
    let mut antenna = Antenna::new(name)?;
    antenna.places.extend(places());
    antenna.volunteers.extend(volunteers());
    Ok(antenna)
}

/// How many people a place usually holds: the demo's own figure for its
/// places, a figure by kind for places an antenna added itself.
pub(crate) fn usual_population(id: &PlaceId, kind: &PlaceKind) -> f64 {
    if let Some((.., people)) = PLACES.iter().find(|(slug, ..)| *slug == id.as_str()) {
        return *people;
    }
    match kind {
        PlaceKind::LivingPlace => 120.0,
        PlaceKind::DistributionPoint => 150.0,
        PlaceKind::DayCentre => 70.0,
        PlaceKind::Station | PlaceKind::Beach | PlaceKind::Other => 40.0,
    }
}
