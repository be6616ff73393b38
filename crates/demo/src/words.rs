//! What the teams write: notes, handovers, incident descriptions, reasons.
//! Invented, in the French the volunteers use, and free of personal data
//! (no names, no nationalities, no phone numbers) as the shift log must be.

use maraude_core::entry::{IncidentType, Service};

pub(crate) const NOTES: &[&str] = &[
    "Beaucoup de monde au point de distribution, file d'attente calme.",
    "Le point d'eau est de nouveau coupé, signalé à la coordination.",
    "Demande forte de chaussures en 42 et 43.",
    "Plusieurs personnes parlant tigrinya sans couverture, à revoir demain.",
    "Groupe de jeunes qui semblent mineurs, informés sur l'évaluation.",
    "Les batteries externes sont toutes parties en une heure.",
    "Pluie toute la soirée, beaucoup de duvets mouillés.",
    "Pas de bus de nuit ce soir, plusieurs personnes restées à la gare.",
    "Une famille avec bébé a refusé le 115, préfère rester avec le groupe.",
    "Feux allumés sous le pont, rappel des consignes de sécurité.",
    "Tout s'est bien passé, ambiance calme.",
    "Police présente à l'entrée du lieu de vie, distribution faite plus loin.",
    "Manque de kits hygiène femmes, à prévoir pour demain.",
    "Beaucoup de questions sur la procédure d'asile, orientés vers la permanence.",
    "Une personne blessée au pied, soins faits, orientée vers la PASS.",
];

pub(crate) const HANDOVERS: &[&str] = &[
    "Stock de couvertures bas, prévoir d'en charger plus.",
    "Deux familles à revoir au même endroit demain soir.",
    "Le van tire à gauche, à faire vérifier.",
    "RAS.",
    "Penser à recharger les batteries externes avant de partir.",
    "Plus de sacs de couchage en réserve à l'entrepôt.",
    "Nouvelles arrivées nombreuses ce soir, prévoir plus de thé.",
    "Un jeune isolé à retrouver pour l'accompagner à l'évaluation.",
    "Thermos fendu, à remplacer.",
    "Accès au lieu de vie par le chemin du nord, l'autre est bloqué.",
];

pub(crate) const INFORMATION: &[&str] = &[
    "Horaires des distributions et de l'accueil de jour.",
    "Numéro du 115 et fonctionnement de la mise à l'abri.",
    "PASS de l'hôpital pour les soins, horaires d'ouverture.",
    "Permanence juridique du jeudi, procédure d'asile.",
    "Évaluation de minorité et protection de l'enfance.",
    "Points d'eau, douches et recharge de téléphone.",
    "Dangers de la traversée et numéros d'urgence en mer.",
];

pub(crate) const VOID_REASONS: &[&str] = &[
    "Saisie en double.",
    "Mauvais article, ressaisi.",
    "Erreur de lieu, ressaisi au bon endroit.",
    "Test de la tablette en début de maraude.",
];

pub(crate) const ANSWERS_115: &[&str] = &[
    "Pas de place ce soir",
    "Rappeler à 22h",
    "Pas de réponse après 40 minutes",
    "Place proposée à Dunkerque",
    "Place pour la mère et les enfants seulement",
    "Liste d'attente",
];

pub(crate) const SHELTERS: &[&str] = &[
    "Hébergement d'urgence de Calais",
    "Centre d'accueil de Dunkerque",
    "Accueil familles à Lille",
    "Hôtel via le 115",
    "Foyer pour mineurs",
];

pub(crate) const CASE_NOTES: &[&str] = &[
    "115 rappelé, toujours pas de place.",
    "Revu sur le lieu de vie, toujours intéressé.",
    "Rendez-vous déplacé à la semaine prochaine.",
    "Pas vu ce soir, à chercher demain.",
];

pub(crate) const ALIASES: &[&str] = &[
    "Ahmed", "Yonas", "Kawa", "Rahim", "Hawi", "Mariam", "Selam", "Dawit", "Farhad", "Zaid",
    "Nour", "Amanuel", "Hussein", "Aziz", "Layla", "Omid", "Bashir", "Hiwet", "Sami", "Rojin",
];

/// A referral's reason, by service.
pub(crate) fn referral_reason(service: Service) -> &'static str {
    match service {
        Service::PassClinic => "Douleur persistante, besoin de consultation.",
        Service::HospitalEmergency => "Blessure ouverte à la main, à faire voir en urgence.",
        Service::LegalAid => "Questions sur une obligation de quitter le territoire.",
        Service::ChildProtection => "Se déclare mineur, seul, demande une mise à l'abri.",
        Service::AsylumProcedure => "Veut déposer une demande d'asile en France.",
        Service::DayCentre => "Besoin de douche, de linge et de recharger son téléphone.",
        Service::OtherAssociation => "Orientation vers l'association de soutien aux femmes.",
    }
}

/// A factual incident description: what, when, how many.
pub(crate) fn incident(kind: IncidentType, hour: u32, minute: u32, people: u32) -> String {
    let at = format!("{hour}h{minute:02}");
    match kind {
        IncidentType::Eviction => format!(
            "Expulsion du lieu de vie vers {at} par les forces de l'ordre, environ {people} \
             personnes dispersées, tentes et affaires emportées par une entreprise de nettoyage."
        ),
        IncidentType::DestructionOfBelongings => format!(
            "Vers {at}, tentes lacérées et duvets jetés à la benne, {people} personnes \
             concernées, pas de délai laissé pour récupérer les affaires."
        ),
        IncidentType::Violence => format!(
            "Vers {at}, {people} personne(s) disent avoir reçu du gaz lacrymogène pendant \
             leur sommeil; yeux irrités constatés par l'équipe."
        ),
        IncidentType::RefusedTransport => format!(
            "Vers {at}, {people} personne(s) refusées à la montée dans le bus malgré leur titre \
             de transport."
        ),
        IncidentType::SeaInterception => format!(
            "Vers {at}, retour sur la plage d'environ {people} personnes après une \
             interception en mer, vêtements trempés, plusieurs en hypothermie légère."
        ),
        IncidentType::Other => format!("Vers {at}, incident signalé, {people} personnes."),
    }
}
