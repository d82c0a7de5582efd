//! Postman's dynamic variables of made-up data (`{{$randomEmail}}`, `{{$randomFirstName}}`…):
//! the names collections use, each a plausible value of its kind, new at every use.

/// A random number below `n`.
fn below(n: usize) -> usize {
    (uuid::Uuid::new_v4().as_u128() % n.max(1) as u128) as usize
}

fn pick<T: Copy>(list: &[T]) -> T {
    list[below(list.len())]
}

const FIRST: &[&str] = &[
    "Ada", "Alan", "Amara", "Ben", "Chen", "Dara", "Elena", "Farah", "Grace", "Hiro", "Ines",
    "Jonas", "Kemi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tariq",
    "Uma", "Vera", "Wen", "Yusuf", "Zoe",
];
const LAST: &[&str] = &[
    "Abbott", "Baker", "Castro", "Diaz", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen",
    "Khan", "Lopez", "Moreau", "Nguyen", "Okafor", "Patel", "Quispe", "Rossi", "Silva", "Tanaka",
    "Usman", "Varga", "Weber", "Young", "Zhang",
];
const WORDS: &[&str] = &[
    "alpha", "bridge", "cedar", "delta", "ember", "field", "garden", "harbor", "island", "jade",
    "kernel", "lumen", "meadow", "north", "orbit", "prairie", "quartz", "river", "summit", "tide",
    "umber", "valley", "willow", "xenon", "yarrow", "zephyr",
];
const CITIES: &[&str] = &[
    "Lisbon", "Nairobi", "Osaka", "Lima", "Oslo", "Toronto", "Pune", "Leeds", "Adelaide", "Cork",
];
const COUNTRIES: &[(&str, &str)] = &[
    ("Portugal", "PT"),
    ("Kenya", "KE"),
    ("Japan", "JP"),
    ("Peru", "PE"),
    ("Norway", "NO"),
    ("Canada", "CA"),
    ("India", "IN"),
    ("Ireland", "IE"),
];
const STREETS: &[&str] = &[
    "Oak", "Maple", "Station", "Harbour", "Mill", "Church", "Park",
];
const DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];
const WEEKDAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const JOBS: &[&str] = &[
    "Nurse",
    "Engineer",
    "Analyst",
    "Pharmacist",
    "Designer",
    "Clerk",
];
const COLORS: &[&str] = &["red", "green", "blue", "teal", "orange", "purple", "gold"];

fn digits(n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + below(10) as u8)).collect()
}

fn alnum(n: usize) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..n).map(|_| char::from(A[below(A.len())])).collect()
}

fn hex(n: usize) -> String {
    (0..n).map(|_| format!("{:x}", below(16))).collect()
}

/// The value of a `$random…` dynamic variable, or `None` for a name Postman does not have.
/// `now` (Unix seconds) anchors the dates.
pub fn value(name: &str, now: i64) -> Option<String> {
    // A date `days` from now (negative: before).
    let date = |days: i64| crate::clock::iso8601(now + days * 86_400);
    let first = || pick(FIRST).to_string();
    let last = || pick(LAST).to_string();
    Some(match name.strip_prefix("$random")? {
        "FirstName" => first(),
        "LastName" => last(),
        "FullName" => format!("{} {}", first(), last()),
        "NamePrefix" => pick(&["Mr.", "Ms.", "Mx.", "Dr."]).into(),
        "NameSuffix" => pick(&["Jr.", "Sr.", "III", "MD"]).into(),
        "JobTitle" => pick(JOBS).into(),
        "Email" | "ExampleEmail" => format!(
            "{}.{}{}@{}",
            first().to_lowercase(),
            last().to_lowercase(),
            below(100),
            pick(DOMAINS)
        ),
        "UserName" => format!("{}{}", first().to_lowercase(), below(1000)),
        "Password" => alnum(15),
        "PhoneNumber" => format!("{}-{}-{}", digits(3), digits(3), digits(4)),
        "PhoneNumberExt" => format!("{}-{}-{}-{}", digits(2), digits(3), digits(3), digits(4)),
        "City" => pick(CITIES).into(),
        "StreetName" => format!("{} Street", pick(STREETS)),
        "StreetAddress" => format!("{} {} Street", 1 + below(999), pick(STREETS)),
        "Country" => pick(COUNTRIES).0.into(),
        "CountryCode" => pick(COUNTRIES).1.into(),
        "Latitude" => format!("{:.4}", below(180_000) as f64 / 1000.0 - 90.0),
        "Longitude" => format!("{:.4}", below(360_000) as f64 / 1000.0 - 180.0),
        "Int" => below(1001).to_string(),
        "Boolean" => (below(2) == 1).to_string(),
        "AlphaNumeric" => alnum(1),
        "Color" => pick(COLORS).into(),
        "HexColor" => format!("#{}", hex(6)),
        "Abbreviation" => pick(&["HTTP", "JSON", "FHIR", "SSL", "XML", "API"]).into(),
        "IP" => format!(
            "{}.{}.{}.{}",
            below(256),
            below(256),
            below(256),
            below(256)
        ),
        "IPV6" => (0..8).map(|_| hex(4)).collect::<Vec<_>>().join(":"),
        "MACAddress" => (0..6).map(|_| hex(2)).collect::<Vec<_>>().join(":"),
        "Protocol" => pick(&["http", "https"]).into(),
        "Semver" => format!("{}.{}.{}", below(10), below(20), below(50)),
        "UUID" => uuid::Uuid::new_v4().to_string(),
        "Locale" => pick(&["en", "pt", "ja", "es", "no", "fr"]).into(),
        "UserAgent" => "Mozilla/5.0 (X11; Linux x86_64) fhircheck".into(),
        "Url" => format!("https://{}/{}", pick(DOMAINS), pick(WORDS)),
        "DomainName" => pick(DOMAINS).into(),
        "DomainSuffix" => pick(&["com", "org", "net", "io"]).into(),
        "DomainWord" | "Word" | "LoremWord" | "Noun" | "Verb" | "Adjective" => pick(WORDS).into(),
        "Words" | "LoremWords" => (0..3).map(|_| pick(WORDS)).collect::<Vec<_>>().join(" "),
        "LoremSentence" => {
            let w: Vec<&str> = (0..6).map(|_| pick(WORDS)).collect();
            let s = w.join(" ");
            format!("{}{}.", s[..1].to_uppercase(), &s[1..])
        }
        "CompanyName" => format!(
            "{} {}",
            last(),
            pick(&["Health", "Labs", "Clinic", "Group"])
        ),
        "Department" => pick(&["Cardiology", "Radiology", "Pharmacy", "Oncology"]).into(),
        "Price" => format!("{}.{}", below(1000), digits(2)),
        "CurrencyCode" => pick(&["EUR", "USD", "JPY", "GBP", "NOK"]).into(),
        "FileName" => format!("{}.{}", pick(WORDS), pick(&["pdf", "json", "txt"])),
        "FileExt" => pick(&["pdf", "json", "txt", "csv"]).into(),
        "MimeType" => pick(&["application/json", "text/plain", "application/pdf"]).into(),
        "Weekday" => pick(WEEKDAYS).into(),
        "Month" => pick(MONTHS).into(),
        "DatePast" => date(-(1 + below(365) as i64)),
        "DateFuture" => date(1 + below(365) as i64),
        "DateRecent" => date(-(below(3) as i64)),
        "BankAccount" => digits(8),
        "BankAccountIban" => format!("PT50{}", digits(21)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn postman_names_give_values_of_their_kind() {
        let email = super::value("$randomEmail", 0).unwrap();
        assert!(email.contains("@example."), "{email}");
        assert_eq!(super::value("$randomHexColor", 0).unwrap().len(), 7);
        assert!(
            super::value("$randomInt", 0)
                .unwrap()
                .parse::<u32>()
                .unwrap()
                <= 1000
        );
        assert!(super::value("$randomDateFuture", 0).unwrap().as_str() > "1970-01-01T00:00:00Z");
        assert_eq!(super::value("$randomNotAThing", 0), None);
        assert_eq!(super::value("$guid", 0), None);
    }
}
