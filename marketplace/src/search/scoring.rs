//! The recommendation score: four sub-scores in [0, 1] mixed by weights that sum to 1.
//!
//! Pure: the service fetches the candidates (the nearest listings that pass the filters) and
//! this module ranks them, explaining every factor so the app can say *why* a charger won.

use serde::{Deserialize, Serialize};

use super::model::ListingHit;
use crate::error::FieldError;

/// Relative importance of each factor, as the driver gives it. Missing fields take the
/// defaults; the four are then normalised to sum to 1, so `{"price": 2}` with the other
/// defaults just means "price matters more".
///
/// Each 0 to 1000000, not all 0. In answers: the weights as used, scaled to sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(as = RecommendWeights)]
pub struct Weights {
    #[schema(minimum = 0, maximum = 1000000, default = 0.4)]
    pub distance: f64,
    #[schema(minimum = 0, maximum = 1000000, default = 0.3)]
    pub price: f64,
    #[schema(minimum = 0, maximum = 1000000, default = 0.2)]
    pub availability: f64,
    #[schema(minimum = 0, maximum = 1000000, default = 0.1)]
    pub rating: f64,
}

impl Default for Weights {
    /// Closeness first (a detour costs time and charge), then price, then a free port now,
    /// then reputation.
    fn default() -> Self {
        Self {
            distance: 0.4,
            price: 0.3,
            availability: 0.2,
            rating: 0.1,
        }
    }
}

impl Weights {
    /// Scales the weights to sum to 1; refuses negatives, non-numbers and all-zero weights.
    pub fn normalised(self) -> Result<Self, Vec<FieldError>> {
        let parts = [
            ("weights.distance", self.distance),
            ("weights.price", self.price),
            ("weights.availability", self.availability),
            ("weights.rating", self.rating),
        ];
        let errors: Vec<_> = parts
            .iter()
            .filter(|(_, w)| !(w.is_finite() && *w >= 0.0 && *w <= 1e6))
            .map(|(f, _)| FieldError::new(*f, "must be a number between 0 and 1000000"))
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let sum: f64 = parts.iter().map(|(_, w)| w).sum();
        if sum <= 0.0 {
            return Err(vec![FieldError::new(
                "weights",
                "at least one weight must be > 0",
            )]);
        }
        Ok(Self {
            distance: self.distance / sum,
            price: self.price / sum,
            availability: self.availability / sum,
            rating: self.rating / sum,
        })
    }
}

/// The prior a Bayesian rating pulls toward: an unknown charger is assumed "3.5 stars, as if
/// from 5 reviews", so 1 review of 5★ (→ 3.75) does not beat 200 reviews of 4.8★ (→ 4.77).
pub const RATING_PRIOR_MEAN: f64 = 3.5;
pub const RATING_PRIOR_COUNT: f64 = 5.0;

/// Sub-score used when a listing has no per-kWh price: neither rewarded nor punished.
pub const NEUTRAL: f64 = 0.5;

/// One factor of a score: the sub-score, its weight, and what it contributed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = ScoreFactor)]
pub struct Factor {
    /// Sub-score, 0 to 1.
    #[schema(minimum = 0, maximum = 1)]
    pub score: f64,
    /// The normalised weight.
    #[schema(minimum = 0, maximum = 1)]
    pub weight: f64,
    /// `score` × `weight`.
    #[schema(minimum = 0, maximum = 1)]
    pub contribution: f64,
}

/// Why a charger scored what it did, factor by factor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = ScoreFactors)]
pub struct Factors {
    pub distance: Factor,
    pub price: Factor,
    pub availability: Factor,
    pub rating: Factor,
}

/// The four sub-scores of one candidate, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubScores {
    pub distance: f64,
    pub price: f64,
    pub availability: f64,
    pub rating: f64,
}

/// 1 at the driver, 0 at the edge of the search radius.
pub fn distance_score(distance_km: f64, radius_km: f64) -> f64 {
    if radius_km <= 0.0 {
        return 0.0;
    }
    (1.0 - distance_km / radius_km).clamp(0.0, 1.0)
}

/// Cheapest candidate 1, dearest 0, linear between; all equal prices score 1; no price 0.5.
pub fn price_score(price: Option<f64>, cheapest: f64, dearest: f64) -> f64 {
    match price {
        None => NEUTRAL,
        Some(_) if dearest <= cheapest => 1.0,
        Some(p) => ((dearest - p) / (dearest - cheapest)).clamp(0.0, 1.0),
    }
}

/// Share of ports free now; 0 when closed or when the listing has no ports.
pub fn availability_score(ports_available: i32, ports_total: i32, open_now: bool) -> f64 {
    if !open_now || ports_total <= 0 {
        return 0.0;
    }
    (f64::from(ports_available) / f64::from(ports_total)).clamp(0.0, 1.0)
}

/// The Bayesian average of the rating on a 0..5 scale, divided by 5.
pub fn rating_score(average: f64, count: i32) -> f64 {
    let n = f64::from(count.max(0));
    let bayes = (RATING_PRIOR_COUNT * RATING_PRIOR_MEAN + n * average.clamp(0.0, 5.0))
        / (RATING_PRIOR_COUNT + n);
    (bayes / 5.0).clamp(0.0, 1.0)
}

/// Mixes the sub-scores with normalised weights. With weights summing to 1 and sub-scores in
/// [0, 1], the result is in [0, 1] and never decreases when a sub-score rises.
pub fn combine(s: SubScores, w: Weights) -> (f64, Factors) {
    let f = |score: f64, weight: f64| Factor {
        score,
        weight,
        contribution: score * weight,
    };
    let factors = Factors {
        distance: f(s.distance, w.distance),
        price: f(s.price, w.price),
        availability: f(s.availability, w.availability),
        rating: f(s.rating, w.rating),
    };
    let total = factors.distance.contribution
        + factors.price.contribution
        + factors.availability.contribution
        + factors.rating.contribution;
    (total.clamp(0.0, 1.0), factors)
}

/// A ranked candidate: a `ListingHit` with its score.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = ScoredHit)]
pub struct Scored {
    #[serde(flatten)]
    pub listing: ListingHit,
    /// 0 to 1, best first.
    #[schema(minimum = 0, maximum = 1)]
    pub score: f64,
    pub factors: Factors,
}

/// Scores candidates (prices compared among themselves) and sorts best first; ties go to a
/// featured charger, then the nearer one. `weights` must already be normalised.
pub fn rank(candidates: Vec<ListingHit>, radius_km: f64, weights: Weights) -> Vec<Scored> {
    let prices = candidates.iter().filter_map(|c| c.price.per_kwh);
    let cheapest = prices.clone().fold(f64::INFINITY, f64::min);
    let dearest = prices.fold(f64::NEG_INFINITY, f64::max);
    let mut scored: Vec<Scored> = candidates
        .into_iter()
        .map(|c| {
            let sub = SubScores {
                distance: distance_score(c.distance_km, radius_km),
                price: price_score(c.price.per_kwh, cheapest, dearest),
                availability: availability_score(c.ports_available, c.ports_total, c.open_now),
                rating: rating_score(c.rating.average, c.rating.count),
            };
            let (score, factors) = combine(sub, weights);
            Scored {
                listing: c,
                score,
                factors,
            }
        })
        .collect();
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.listing.featured.cmp(&a.listing.featured))
            .then(a.listing.distance_km.total_cmp(&b.listing.distance_km))
    });
    scored
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::model::{Price, Rating};
    use proptest::prelude::*;
    use uuid::Uuid;

    fn hit(distance_km: f64, per_kwh: Option<f64>, avail: i32, rating: (f64, i32)) -> ListingHit {
        ListingHit {
            id: Uuid::now_v7(),
            title: "t".into(),
            address: "a".into(),
            latitude: 0.0,
            longitude: 0.0,
            distance_km,
            price: Price {
                currency: "EUR".into(),
                per_kwh,
                per_hour: None,
            },
            rating: Rating {
                average: rating.0,
                count: rating.1,
            },
            connector_types: vec![],
            max_power_kw: 22.0,
            ports_total: 2,
            ports_available: avail,
            amenities: vec![],
            open_now: true,
            featured: false,
        }
    }

    #[test]
    fn defaults_sum_to_one() {
        let w = Weights::default().normalised().unwrap();
        assert!((w.distance + w.price + w.availability + w.rating - 1.0).abs() < 1e-12);
        assert!((w.distance - 0.4).abs() < 1e-12 && (w.rating - 0.1).abs() < 1e-12);
    }

    #[test]
    fn bad_weights_are_named() {
        let w = Weights {
            price: -1.0,
            ..Weights::default()
        };
        assert_eq!(w.normalised().unwrap_err()[0].field, "weights.price");
        let zero = Weights {
            distance: 0.0,
            price: 0.0,
            availability: 0.0,
            rating: 0.0,
        };
        assert_eq!(zero.normalised().unwrap_err()[0].field, "weights");
    }

    #[test]
    fn bayesian_rating_needs_evidence() {
        assert!(rating_score(4.8, 200) > rating_score(5.0, 1));
        assert_eq!(rating_score(0.0, 0), RATING_PRIOR_MEAN / 5.0);
    }

    #[test]
    fn price_relative_to_candidates() {
        assert_eq!(price_score(Some(0.20), 0.20, 0.40), 1.0);
        assert_eq!(price_score(Some(0.40), 0.20, 0.40), 0.0);
        assert!((price_score(Some(0.30), 0.20, 0.40) - 0.5).abs() < 1e-12);
        assert_eq!(price_score(None, 0.20, 0.40), NEUTRAL);
        assert_eq!(price_score(Some(0.3), 0.3, 0.3), 1.0);
    }

    #[test]
    fn closed_means_unavailable() {
        assert_eq!(availability_score(2, 2, false), 0.0);
        assert_eq!(availability_score(1, 2, true), 0.5);
        assert_eq!(availability_score(0, 0, true), 0.0);
    }

    #[test]
    fn rank_prefers_the_better_deal() {
        let near_dear = hit(1.0, Some(0.60), 1, (4.0, 10));
        let far_cheap = hit(2.0, Some(0.20), 2, (4.8, 200));
        let ranked = rank(
            vec![near_dear.clone(), far_cheap.clone()],
            10.0,
            Weights::default(),
        );
        assert_eq!(ranked[0].listing.id, far_cheap.id);
        // a driver who only cares about distance gets the nearest
        let w = Weights {
            distance: 1.0,
            price: 0.0,
            availability: 0.0,
            rating: 0.0,
        };
        let ranked = rank(vec![far_cheap, near_dear.clone()], 10.0, w);
        assert_eq!(ranked[0].listing.id, near_dear.id);
        assert!((ranked[0].score - 0.9).abs() < 1e-12);
    }

    fn unit() -> impl Strategy<Value = f64> {
        0.0f64..=1.0
    }

    fn weights() -> impl Strategy<Value = Weights> {
        (0.0f64..10.0, 0.0f64..10.0, 0.0f64..10.0, 0.0f64..10.0)
            .prop_filter("not all zero", |(a, b, c, d)| a + b + c + d > 1e-6)
            .prop_map(|(distance, price, availability, rating)| Weights {
                distance,
                price,
                availability,
                rating,
            })
    }

    fn subs() -> impl Strategy<Value = SubScores> {
        (unit(), unit(), unit(), unit()).prop_map(|(distance, price, availability, rating)| {
            SubScores {
                distance,
                price,
                availability,
                rating,
            }
        })
    }

    proptest! {
        #[test]
        fn score_is_in_unit_interval(s in subs(), w in weights()) {
            let (score, _) = combine(s, w.normalised().unwrap());
            prop_assert!((0.0..=1.0).contains(&score));
        }

        #[test]
        fn normalised_weights_sum_to_one_and_keep_ratios(w in weights()) {
            let n = w.normalised().unwrap();
            prop_assert!((n.distance + n.price + n.availability + n.rating - 1.0).abs() < 1e-9);
            // normalising twice changes nothing
            let nn = n.normalised().unwrap();
            prop_assert!((nn.price - n.price).abs() < 1e-12);
            if w.rating > 0.0 {
                prop_assert!((n.price / n.rating - w.price / w.rating).abs() < 1e-6 * (1.0 + w.price / w.rating));
            }
        }

        #[test]
        fn score_is_monotonic_in_each_factor(s in subs(), w in weights(), bump in unit(), which in 0usize..4) {
            let w = w.normalised().unwrap();
            let mut better = s;
            let slot = match which {
                0 => &mut better.distance,
                1 => &mut better.price,
                2 => &mut better.availability,
                _ => &mut better.rating,
            };
            *slot = (*slot + bump).min(1.0);
            prop_assert!(combine(better, w).0 >= combine(s, w).0 - 1e-12);
        }

        #[test]
        fn sub_scores_are_in_unit_interval_and_monotonic(
            d in 0.0f64..200.0, r in 0.1f64..100.0, p in 0.05f64..1.0, lo in 0.05f64..1.0,
            avail in 0i32..10, total in 0i32..10, avg in 0.0f64..=5.0, n in 0i32..1000,
        ) {
            let hi = lo + 0.5;
            for v in [
                distance_score(d, r),
                price_score(Some(p), lo, hi),
                availability_score(avail.min(total), total, true),
                rating_score(avg, n),
            ] {
                prop_assert!((0.0..=1.0).contains(&v));
            }
            prop_assert!(distance_score(d, r) >= distance_score(d + 1.0, r));
            prop_assert!(price_score(Some(p), lo, hi) >= price_score(Some(p + 0.01), lo, hi));
            prop_assert!(rating_score((avg + 0.1).min(5.0), n) >= rating_score(avg, n));
        }
    }
}
