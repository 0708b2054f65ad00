//! Weights and constants of the match score, with the reasons for their
//! defaults. Loaded from the `[matching]` table of the config file; any
//! field left out keeps its default.

use serde::Deserialize;

/// How the score's components are weighted and shaped.
///
/// The score is `sum(weight_i * component_i)` with every component in
/// [0, 1]; the weights are normalised to sum to 1 at load time, so the score
/// is in [0, 1] whatever numbers the file gives.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchConfig {
    /// Skill fit. 0.30: the largest single weight, because a worker who
    /// can do the job well is the best predictor of staying in it (job
    /// retention, 稳岗, is what offices are judged on after placement).
    pub weight_skill: f64,
    /// Commute. 0.20: near-home work is the stated first preference of most
    /// relocated households (carers, older workers), and distance is the
    /// main reason placements at aid workshops fail.
    pub weight_commute: f64,
    /// Pay against expectation. 0.20: as important as distance; a job far
    /// below expectation is rarely taken.
    pub weight_pay: f64,
    /// Stated preferences (source, flexible hours). 0.10: soft wishes; the
    /// hard ones (strict sources) are eligibility rules, not score.
    pub weight_preference: f64,
    /// Policy priority (zero-employment household; partial-capacity worker
    /// on a reserved public-welfare post). 0.20: large enough that a
    /// zero-employment household's member outranks an otherwise slightly
    /// better candidate, small enough not to override a poor fit.
    pub weight_priority: f64,
    /// Distance in km at which the commute component falls to 1/e (37%).
    /// 15 km: a daily bus or motorbike ride from a resettlement site to the
    /// county seat; a workshop at the site (under 1 km) scores about 0.94.
    pub commute_decay_km: f64,
    /// Exponent of the pay ratio (offered / expected, capped at 1). 2.0: a
    /// job paying 80% of the expectation scores 0.64, one at 50% scores
    /// 0.25, which matches how sharply take-up falls below expectation.
    pub pay_exponent: f64,
}

impl Default for MatchConfig {
    fn default() -> Self {
        Self {
            weight_skill: 0.30,
            weight_commute: 0.20,
            weight_pay: 0.20,
            weight_preference: 0.10,
            weight_priority: 0.20,
            commute_decay_km: 15.0,
            pay_exponent: 2.0,
        }
    }
}

impl MatchConfig {
    /// Checks the numbers and normalises the weights to sum to 1.
    pub fn normalised(mut self) -> Result<Self, String> {
        let weights = [
            ("weight_skill", self.weight_skill),
            ("weight_commute", self.weight_commute),
            ("weight_pay", self.weight_pay),
            ("weight_preference", self.weight_preference),
            ("weight_priority", self.weight_priority),
        ];
        for (name, w) in weights {
            if !w.is_finite() || w < 0.0 {
                return Err(format!(
                    "matching.{name} must be a finite number >= 0, got {w}"
                ));
            }
        }
        let sum: f64 = weights.iter().map(|(_, w)| w).sum();
        if sum <= 0.0 {
            return Err("matching weights must not all be 0".into());
        }
        if !(self.commute_decay_km.is_finite() && self.commute_decay_km > 0.0) {
            return Err(format!(
                "matching.commute_decay_km must be > 0, got {}",
                self.commute_decay_km
            ));
        }
        if !(self.pay_exponent.is_finite() && self.pay_exponent > 0.0) {
            return Err(format!(
                "matching.pay_exponent must be > 0, got {}",
                self.pay_exponent
            ));
        }
        self.weight_skill /= sum;
        self.weight_commute /= sum;
        self.weight_pay /= sum;
        self.weight_preference /= sum;
        self.weight_priority /= sum;
        Ok(self)
    }
}
