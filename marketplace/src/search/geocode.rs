//! Offline forward geocoding of place names from a bundled GeoNames extract (cities with at
//! least 15 000 inhabitants; see `marketplace/data/README.md` for source and licence).
//!
//! No network, no street addresses: "Paris", "paris fr", "Springfield, US", "Springfield IL"
//! resolve to a city centre, which is what a driver needs to look for chargers somewhere else.

use std::sync::LazyLock;

use serde::Serialize;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// ~34 000 cities, ~1.7 MB, compiled in so the binary has no data files to ship.
static CITIES_TSV: &str = include_str!("../../data/cities.tsv");

/// Parsed on first use, then shared: parsing takes a few milliseconds.
static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(|| Gazetteer::parse(CITIES_TSV));

pub fn gazetteer() -> &'static Gazetteer {
    &GAZETTEER
}

#[derive(Debug, Clone, PartialEq)]
pub struct City {
    pub name: String,
    pub country_code: String,
    pub admin1: String,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u64,
    /// the folded words of the name, for matching
    words: Vec<String>,
}

/// How well a city matched; better matches rank first, then larger cities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchQuality {
    /// the query's name is a prefix of the name ("san fr" → San Francisco)
    Prefix,
    /// the query's name is one or more whole words of the name ("york" → New York)
    Words,
    /// the whole name
    Exact,
}

/// A city from the offline gazetteer (GeoNames, 15 000+ inhabitants): its centre.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Place {
    #[schema(example = "Amsterdam")]
    pub name: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "NL")]
    pub country_code: String,
    /// first-level division code (a US state, a French région number)
    pub admin1: String,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u64,
    #[serde(rename = "match")]
    pub quality: MatchQuality,
}

pub struct Gazetteer {
    /// sorted by population, largest first (the file's order)
    cities: Vec<City>,
}

/// Lower-case, accents and marks removed, punctuation turned into spaces, words split:
/// "São Paulo" → ["sao", "paulo"], "Springfield, US" → ["springfield", "us"].
pub fn fold_words(s: &str) -> Vec<String> {
    let folded: String = s
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(|c| match c {
            'ß' => "ss".chars().collect::<Vec<_>>(),
            'æ' | 'Æ' => vec!['a', 'e'],
            'œ' | 'Œ' => vec!['o', 'e'],
            'ø' | 'Ø' => vec!['o'],
            'đ' | 'Đ' | 'ð' => vec!['d'],
            'ł' | 'Ł' => vec!['l'],
            'ı' => vec!['i'],
            // apostrophes join: "Val-d'Or" and "vald or" both fold their parts the same
            '\'' | '’' | '‘' | 'ʻ' | 'ʼ' => vec![],
            c if c.is_alphanumeric() => c.to_lowercase().collect(),
            _ => vec![' '],
        })
        .collect();
    folded.split_whitespace().map(str::to_owned).collect()
}

impl Gazetteer {
    /// Parses `name \t ascii_name \t country \t admin1 \t lat \t lon \t population` lines;
    /// `#` lines are comments. A malformed line is skipped (the file is ours and tested).
    pub fn parse(tsv: &str) -> Self {
        let cities = tsv
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|line| {
                let mut f = line.split('\t');
                let name = f.next()?.to_owned();
                let ascii = f.next()?;
                let country_code = f.next()?.to_owned();
                let admin1 = f.next()?.to_owned();
                let latitude = f.next()?.parse().ok()?;
                let longitude = f.next()?.parse().ok()?;
                let population = f.next()?.parse().ok()?;
                Some(City {
                    words: fold_words(ascii),
                    name,
                    country_code,
                    admin1,
                    latitude,
                    longitude,
                    population,
                })
            })
            .collect();
        Self { cities }
    }

    pub fn len(&self) -> usize {
        self.cities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cities.is_empty()
    }

    /// Best matches first: match quality, then population.
    ///
    /// A trailing word that is a country code ("fr") or, with a country or alone, a region code
    /// ("il") narrows the search when some city matches with it; otherwise it is read as part
    /// of the name ("Le Mans" keeps its "le", "Paris TX" finds Paris, Texas).
    pub fn search(&self, query: &str, limit: usize) -> Vec<Place> {
        let words = fold_words(query);
        if words.is_empty() || limit == 0 {
            return Vec::new();
        }
        // try the most specific reading first: name + region + country, name + country, ...
        let n = words.len();
        let mut readings: Vec<(usize, Option<&str>, Option<&str>)> = Vec::new();
        if n >= 3 {
            readings.push((n - 2, Some(&words[n - 2]), Some(&words[n - 1])));
        }
        if n >= 2 {
            readings.push((n - 1, None, Some(&words[n - 1])));
            readings.push((n - 1, Some(&words[n - 1]), None));
        }
        readings.push((n, None, None));
        for (name_len, admin1, country) in readings {
            let name = &words[..name_len];
            let found = self.matches(name, admin1, country, limit);
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }

    fn matches(
        &self,
        name: &[String],
        admin1: Option<&str>,
        country: Option<&str>,
        limit: usize,
    ) -> Vec<Place> {
        // two-letter codes only: a longer word is part of a name
        let code_ok = |c: Option<&str>| c.is_none_or(|c| c.len() == 2 && c.is_ascii());
        if !code_ok(country) || !admin1.is_none_or(|a| a.len() <= 3 && a.is_ascii()) {
            return Vec::new();
        }
        let mut found: Vec<(MatchQuality, &City)> = self
            .cities
            .iter()
            .filter(|c| country.is_none_or(|cc| c.country_code.eq_ignore_ascii_case(cc)))
            .filter(|c| admin1.is_none_or(|a| c.admin1.eq_ignore_ascii_case(a)))
            .filter_map(|c| quality(&c.words, name).map(|q| (q, c)))
            .collect();
        // stable sort: equal quality keeps the file's population order
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        found
            .into_iter()
            .take(limit)
            .map(|(quality, c)| Place {
                name: c.name.clone(),
                country_code: c.country_code.clone(),
                admin1: c.admin1.clone(),
                latitude: c.latitude,
                longitude: c.longitude,
                population: c.population,
                quality,
            })
            .collect()
    }
}

/// How the query words match the city's words, if at all.
fn quality(city: &[String], query: &[String]) -> Option<MatchQuality> {
    if city == query {
        return Some(MatchQuality::Exact);
    }
    // the query as a run of whole words inside the name
    if query.len() <= city.len() && city.windows(query.len()).any(|w| w == query) {
        return Some(MatchQuality::Words);
    }
    // a prefix: all words equal except the last, which may be cut short
    let (last, init) = query.split_last()?;
    if city.len() >= query.len()
        && city[..init.len()] == *init
        && city[init.len()].starts_with(last.as_str())
    {
        return Some(MatchQuality::Prefix);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(q: &str) -> Place {
        gazetteer()
            .search(q, 5)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{q}"))
    }

    #[test]
    fn the_bundled_file_parses() {
        let g = gazetteer();
        assert!(g.len() > 30_000, "{}", g.len());
    }

    #[test]
    fn folding() {
        assert_eq!(fold_words("São  Paulo"), ["sao", "paulo"]);
        assert_eq!(fold_words("Springfield, US"), ["springfield", "us"]);
        assert_eq!(fold_words("ZÜRICH"), ["zurich"]);
        assert_eq!(fold_words("Kraków"), ["krakow"]);
        assert_eq!(fold_words("Łódź"), ["lodz"]);
    }

    #[test]
    fn big_city_wins_the_bare_name() {
        let p = top("Paris");
        assert_eq!(
            (p.country_code.as_str(), p.quality),
            ("FR", MatchQuality::Exact)
        );
        assert!((p.latitude - 48.85).abs() < 0.1 && (p.longitude - 2.35).abs() < 0.1);
    }

    #[test]
    fn country_and_region_narrow() {
        assert_eq!(top("paris fr").country_code, "FR");
        let tx = top("Paris, US");
        assert_eq!((tx.country_code.as_str(), tx.admin1.as_str()), ("US", "TX"));
        let s = top("Springfield, US");
        assert_eq!(s.country_code, "US");
        let il = top("Springfield IL");
        assert_eq!(il.admin1, "IL");
        assert!((il.latitude - 39.80).abs() < 0.1);
        let ma = top("springfield ma us");
        assert_eq!(ma.admin1, "MA");
    }

    #[test]
    fn accents_case_and_prefixes() {
        assert_eq!(top("sao paulo").name, "São Paulo");
        assert_eq!(top("ZURICH").country_code, "CH");
        let p = top("san fran");
        assert_eq!(
            (p.name.as_str(), p.quality),
            ("San Francisco", MatchQuality::Prefix)
        );
        // an exact match beats a bigger city that only starts the same
        assert_eq!(top("york").quality, MatchQuality::Exact);
        assert_eq!(top("york").country_code, "GB");
    }

    #[test]
    fn nothing_for_nonsense() {
        assert!(gazetteer().search("qwxzzv", 5).is_empty());
        assert!(gazetteer().search("  ,, ", 5).is_empty());
    }
}
