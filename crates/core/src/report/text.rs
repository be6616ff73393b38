//! Plain-text summaries to paste into the team's messaging group. Counts
//! only: no alias, no phone, no free text about a person.

use std::fmt::Write;

use super::night::NightReport;
use super::period::PeriodReport;
use crate::Lang;
use crate::shift::ShiftKind;

struct Words {
    people_met: &'static str,
    arrivals: &'static str,
    groups: (&'static str, &'static str),
    distributed: &'static str,
    stock: &'static str,
    loaded: &'static str,
    returned: &'static str,
    unaccounted: &'static str,
    shelter: &'static str,
    referrals: &'static str,
    incidents: &'static str,
    handover: &'static str,
    open: &'static str,
    nothing: &'static str,
    /// One, many.
    men: (&'static str, &'static str),
    /// One, many.
    women: (&'static str, &'static str),
    /// One, many.
    children: (&'static str, &'static str),
    minors_alone: (&'static str, &'static str),
    vulnerable: &'static str,
    shifts: &'static str,
    places: &'static str,
    cases_opened: &'static str,
    shelter_cases: (&'static str, &'static str),
    referral_cases: (&'static str, &'static str),
    still_open: &'static str,
    census: &'static str,
    voided: (&'static str, &'static str),
}

const FR: Words = Words {
    people_met: "Personnes rencontrées",
    arrivals: "Nouvelles arrivées",
    groups: ("groupe", "groupes"),
    distributed: "Distribué",
    stock: "Stock du camion (chargé / distribué / rendu)",
    loaded: "chargé",
    returned: "rendu",
    unaccounted: "écart",
    shelter: "Demandes de mise à l'abri",
    referrals: "Orientations",
    incidents: "Incidents",
    handover: "Transmissions",
    open: "en cours",
    nothing: "rien",
    men: ("homme", "hommes"),
    women: ("femme", "femmes"),
    children: ("enfant", "enfants"),
    minors_alone: ("MNA", "MNA"),
    vulnerable: "vulnérables",
    shifts: "Maraudes et permanences",
    places: "Par lieu (personnes rencontrées / articles distribués)",
    cases_opened: "Suivis ouverts",
    shelter_cases: ("mise à l'abri", "mises à l'abri"),
    referral_cases: ("orientation", "orientations"),
    still_open: "encore ouverts",
    census: "Recensement (dernier comptage par lieu)",
    voided: ("entrée annulée", "entrées annulées"),
};

const EN: Words = Words {
    people_met: "People met",
    arrivals: "New arrivals",
    groups: ("group", "groups"),
    distributed: "Distributed",
    stock: "Van stock (loaded / distributed / returned)",
    loaded: "loaded",
    returned: "returned",
    unaccounted: "gap",
    shelter: "Shelter requests",
    referrals: "Referrals",
    incidents: "Incidents",
    handover: "Handover",
    open: "open",
    nothing: "none",
    men: ("man", "men"),
    women: ("woman", "women"),
    children: ("child", "children"),
    minors_alone: ("unaccompanied minor", "unaccompanied minors"),
    vulnerable: "vulnerable",
    shifts: "Shifts",
    places: "By place (people met / items distributed)",
    cases_opened: "Follow-ups opened",
    shelter_cases: ("shelter request", "shelter requests"),
    referral_cases: ("referral", "referrals"),
    still_open: "still open",
    census: "Census (last count per place)",
    voided: ("voided entry", "voided entries"),
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    }
}

/// The words for the codes reports carry (incident types, services,
/// outcomes, needs, shelter), so that the messaging group reads
/// "expulsion", not "eviction". An unknown code is shown as it is.
pub fn code_label(code: &str, lang: Lang) -> String {
    match (code_words(code), lang) {
        (Some((fr, _)), Lang::Fr) => fr.to_string(),
        (Some((_, en)), Lang::En) => en.to_string(),
        (None, _) => code.to_string(),
    }
}

/// French and English words for a code.
fn code_words(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "eviction" => ("expulsion", "eviction"),
        "destruction_of_belongings" => ("destruction d'affaires", "belongings destroyed"),
        "violence" => ("violences", "violence"),
        "refused_transport" => ("transport refusé", "transport refused"),
        "sea_interception" => ("interception en mer", "interception at sea"),
        "other" => ("autre", "other"),
        "pass_clinic" => ("PASS", "PASS clinic"),
        "hospital_emergency" => ("urgences", "hospital emergency"),
        "legal_aid" => ("accès au droit", "legal aid"),
        "child_protection" => ("protection de l'enfance", "child protection"),
        "asylum_procedure" => ("demande d'asile", "asylum procedure"),
        "day_centre" => ("accueil de jour", "day centre"),
        "other_association" => ("autre association", "other association"),
        "shelter" => ("mise à l'abri", "shelter"),
        "placed" => ("mis·e à l'abri", "placed"),
        "no_place" => ("pas de place", "no place"),
        "refused" => ("refusé", "refused"),
        "lost_contact" => ("perdu de vue", "lost contact"),
        "seen" => ("vu·e par le service", "seen by the service"),
        "not_seen" => ("pas vu·e", "not seen"),
        "erased_while_open" => ("effacé avant clôture", "erased before closing"),
        "medical" => ("soins", "medical"),
        "food" => ("alimentation", "food"),
        "information" => ("information", "information"),
        "clothes" => ("vêtements", "clothes"),
        "legal" => ("droits", "legal"),
        _ => return None,
    })
}

pub fn shift_kind_label(kind: ShiftKind, lang: Lang) -> &'static str {
    match (kind, lang) {
        (ShiftKind::NightMaraude, Lang::Fr) => "Maraude de nuit",
        (ShiftKind::NightMaraude, Lang::En) => "Night maraude",
        (ShiftKind::DayMaraude, Lang::Fr) => "Maraude de jour",
        (ShiftKind::DayMaraude, Lang::En) => "Day maraude",
        (ShiftKind::DayCentre, Lang::Fr) => "Accueil de jour",
        (ShiftKind::DayCentre, Lang::En) => "Day centre",
        (ShiftKind::Accompaniment, Lang::Fr) => "Accompagnement",
        (ShiftKind::Accompaniment, Lang::En) => "Accompaniment",
    }
}

/// The word for `n` of something: one, or many.
fn counted(n: u32, (one, many): (&'static str, &'static str)) -> &'static str {
    if n == 1 { one } else { many }
}

fn composition(c: &crate::entry::Composition, w: &Words) -> String {
    let parts: Vec<String> = [
        (c.men, w.men),
        (c.women, w.women),
        (c.children, w.children),
        (c.minors_alone, w.minors_alone),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, words)| format!("{n} {}", counted(*n, *words)))
    .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// The night's summary for the messaging group.
pub fn night_text(r: &NightReport, lang: Lang) -> String {
    let w = words(lang);
    let mut s = String::new();
    let end = r
        .ended_at
        .map(crate::time::paris_time)
        .unwrap_or_else(|| "…".into());
    let _ = writeln!(
        s,
        "{} — {} {} ({}–{}), {}",
        r.antenna,
        shift_kind_label(r.kind, lang),
        r.date.format("%d/%m/%Y"),
        crate::time::paris_time(r.started_at),
        end,
        r.team.join(", ")
    );
    if !r.places_visited.is_empty() {
        let _ = writeln!(s, "{}", r.places_visited.join(" · "));
    }
    let pm = &r.people_met;
    let _ = write!(
        s,
        "\n{}: {}{}",
        w.people_met,
        pm.total,
        composition(&pm.composition, w)
    );
    if pm.vulnerable > 0 {
        let _ = write!(s, ", {} {}", pm.vulnerable, w.vulnerable);
    }
    s.push('\n');
    for p in &pm.by_place {
        let _ = writeln!(s, "  - {}: {}", p.name, p.people);
    }
    let a = &r.arrivals;
    if a.groups > 0 {
        let _ = writeln!(
            s,
            "{}: {} ({} {}){}",
            w.arrivals,
            a.people,
            a.groups,
            counted(a.groups, w.groups),
            composition(&a.composition, w)
        );
    }
    let _ = writeln!(s, "\n{}:", w.distributed);
    if r.distributions.is_empty() {
        let _ = writeln!(s, "  {}", w.nothing);
    }
    for d in &r.distributions {
        let _ = writeln!(s, "  - {}: {}", d.label, d.quantity);
    }
    if !r.stock.is_empty() {
        let _ = writeln!(s, "\n{}:", w.stock);
        for l in &r.stock {
            let gap = match l.unaccounted {
                Some(gap) if gap != 0 => format!("  ({} {gap:+})", w.unaccounted),
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "  - {}: {} / {} / {}{}",
                l.label, l.loaded, l.distributed, l.returned, gap
            );
        }
    }
    for (title, lines) in [
        (w.shelter, &r.shelter_requests),
        (w.referrals, &r.referrals),
    ] {
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{}: {}", title, lines.len());
        for c in lines {
            let status = c
                .outcome
                .as_deref()
                .map_or_else(|| w.open.to_string(), |o| code_label(o, lang));
            // No case number: the summary goes to a messaging group,
            // where a number would tie a line to a person's record.
            let _ = writeln!(
                s,
                "  - {} ({}): {}",
                code_label(&c.detail, lang),
                c.people,
                status
            );
        }
    }
    if !r.incidents.is_empty() {
        let _ = writeln!(s, "\n{}: {}", w.incidents, r.incidents.len());
        for i in &r.incidents {
            let kind = serde_json::to_value(i.incident_type)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  - {} {} {} ({})",
                crate::time::paris_time(i.at),
                code_label(&kind, lang),
                i.place.clone().unwrap_or_default(),
                i.people_affected
            );
        }
    }
    if !r.handover.is_empty() || !r.notes.is_empty() {
        let _ = writeln!(s, "\n{}:", w.handover);
        for n in r
            .notes
            .iter()
            .chain(std::iter::once(&r.handover).filter(|h| !h.is_empty()))
        {
            let _ = writeln!(s, "  {}", n.replace('\n', "\n  "));
        }
    }
    if r.voided > 0 {
        let _ = writeln!(s, "\n({} {})", r.voided, counted(r.voided, w.voided));
    }
    s
}

/// The period's summary, for the activity report and funders.
pub fn period_text(r: &PeriodReport, lang: Lang) -> String {
    let w = words(lang);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} — {} → {}",
        r.antenna,
        r.from.format("%d/%m/%Y"),
        r.to.format("%d/%m/%Y")
    );
    let _ = writeln!(s, "\n{}: {}", w.shifts, r.shifts);
    for (k, n) in &r.shifts_by_kind {
        let _ = writeln!(s, "  - {}: {}", shift_kind_label(*k, lang), n);
    }
    let _ = writeln!(
        s,
        "\n{}: {}{}",
        w.people_met,
        r.people_met,
        composition(&r.people_met_composition, w)
    );
    let _ = writeln!(
        s,
        "{}: {} ({} {}){}",
        w.arrivals,
        r.arrivals_people,
        r.arrivals_groups,
        counted(r.arrivals_groups, w.groups),
        composition(&r.arrivals_composition, w)
    );
    let _ = writeln!(s, "\n{}:", w.distributed);
    for i in r.items.iter().filter(|i| i.distributed > 0 || i.loaded > 0) {
        let _ = writeln!(
            s,
            "  - {}: {}  ({} {}, {} {})",
            i.label, i.distributed, w.loaded, i.loaded, w.returned, i.returned
        );
    }
    let c = &r.cases;
    let _ = writeln!(
        s,
        "\n{}: {} ({} {}, {} {}), {} {}",
        w.cases_opened,
        c.shelter_requests_opened + c.referrals_opened,
        c.shelter_requests_opened,
        counted(c.shelter_requests_opened, w.shelter_cases),
        c.referrals_opened,
        counted(c.referrals_opened, w.referral_cases),
        c.still_open,
        w.still_open
    );
    for (o, n) in &c.outcomes {
        let _ = writeln!(s, "  - {}: {n}", code_label(o, lang));
    }
    if !r.incidents.is_empty() {
        let _ = writeln!(s, "\n{}:", w.incidents);
        for (k, n) in &r.incidents {
            let _ = writeln!(s, "  - {}: {n}", code_label(k, lang));
        }
    }
    if !r.places.is_empty() {
        let _ = writeln!(s, "\n{}:", w.places);
        for p in &r.places {
            let _ = writeln!(s, "  - {}: {} / {}", p.name, p.people_met, p.distributed);
        }
    }
    if !r.census.is_empty() {
        let _ = writeln!(s, "\n{}:", w.census);
        for l in &r.census {
            let _ = writeln!(
                s,
                "  - {} ({}): {}{}",
                l.name,
                l.date.format("%d/%m"),
                l.people,
                composition(&l.composition, w)
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Composition;

    #[test]
    fn one_person_is_counted_in_the_singular() {
        let c = Composition {
            men: 2,
            women: 1,
            children: 1,
            minors_alone: 1,
        };
        assert_eq!(
            composition(&c, &FR),
            " (2 hommes, 1 femme, 1 enfant, 1 MNA)"
        );
        assert_eq!(
            composition(&c, &EN),
            " (2 men, 1 woman, 1 child, 1 unaccompanied minor)"
        );
    }

    /// Every code a report can carry has words in both languages.
    #[test]
    fn every_code_has_words() {
        use crate::entry::{IncidentType, Need, Service};
        let mut codes: Vec<String> = Vec::new();
        let code = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
        for t in [
            IncidentType::Eviction,
            IncidentType::DestructionOfBelongings,
            IncidentType::Violence,
            IncidentType::RefusedTransport,
            IncidentType::SeaInterception,
            IncidentType::Other,
        ] {
            codes.push(code(serde_json::json!(t)));
        }
        for t in [
            Service::PassClinic,
            Service::HospitalEmergency,
            Service::LegalAid,
            Service::ChildProtection,
            Service::AsylumProcedure,
            Service::DayCentre,
            Service::OtherAssociation,
        ] {
            codes.push(code(serde_json::json!(t)));
        }
        for t in [
            Need::Medical,
            Need::Shelter,
            Need::Food,
            Need::Information,
            Need::Clothes,
            Need::Legal,
        ] {
            codes.push(code(serde_json::json!(t)));
        }
        codes.extend(
            [
                "placed",
                "no_place",
                "refused",
                "lost_contact",
                "seen",
                "not_seen",
                crate::erasure::ERASED_WHILE_OPEN,
            ]
            .map(String::from),
        );
        for c in &codes {
            assert!(code_words(c).is_some(), "no words for {c:?}");
        }
    }
}
