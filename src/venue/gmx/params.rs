//! Validated parameters of a GMX-style venue and the published market
//! configurations it can start from (MECHANISMS.md 1.14).

use super::formulas::{BorrowModel, FundingParams, ImpactFactors, Referral};
use crate::units::SECONDS_PER_YEAR;

/// Which PnL cap a valuation uses (MECHANISMS.md 1.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PnlCap {
    /// `MAX_PNL_FACTOR_FOR_TRADERS`: what closing traders can take.
    Traders,
    /// `MAX_PNL_FACTOR_FOR_DEPOSITS`: GM price for deposits and GLV valuation.
    Deposits,
    /// `MAX_PNL_FACTOR_FOR_WITHDRAWALS`: GM price for withdrawals.
    Withdrawals,
    /// No cap.
    Uncapped,
}

impl PnlCap {
    /// Name in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            PnlCap::Traders => "traders",
            PnlCap::Deposits => "deposits",
            PnlCap::Withdrawals => "withdrawals",
            PnlCap::Uncapped => "none",
        }
    }
}

/// PnL caps of a market as fractions of the side's pool value (MECHANISMS.md 1.12, 1.13).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PnlCaps {
    /// Closing traders' PnL is scaled down above this.
    pub traders: f64,
    /// ADL starts when a side's PnL-to-pool factor exceeds this.
    pub adl: f64,
    /// ADL closes positions until the factor is at or below this.
    pub after_adl: f64,
    /// Cap in the GM price used for deposits (and GLV valuation).
    pub deposits: f64,
    /// Cap in the GM price used for withdrawals.
    pub withdrawals: f64,
}

impl PnlCaps {
    /// The cap factor of a valuation.
    pub fn factor(&self, cap: PnlCap) -> f64 {
        match cap {
            PnlCap::Traders => self.traders,
            PnlCap::Deposits => self.deposits,
            PnlCap::Withdrawals => self.withdrawals,
            PnlCap::Uncapped => f64::INFINITY,
        }
    }
}

/// When position price impact reaches the pool (MECHANISMS.md 1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImpactFlow {
    /// GMX v2.2: impact is stored on the position at increase and settled on
    /// decrease, with excess negative impact made claimable.
    Pending,
    /// GMX ≤ v2.1 and GMX-Solana: impact changes the position's size in
    /// tokens at increase and moves the impact pool immediately.
    OpenTime,
}

impl ImpactFlow {
    /// Name in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            ImpactFlow::Pending => "pending",
            ImpactFlow::OpenTime => "open_time",
        }
    }
}

/// How the ADL keeper ranks positions (GMX leaves it to off-chain keepers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdlRanking {
    /// Largest unrealized PnL in USD first.
    MostProfitable,
    /// Largest PnL per USD of collateral first.
    HighestRoe,
    /// Largest size first.
    Largest,
}

impl AdlRanking {
    /// Name in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            AdlRanking::MostProfitable => "most_profitable",
            AdlRanking::HighestRoe => "highest_roe",
            AdlRanking::Largest => "largest",
        }
    }
}

/// Shares of each fee type that go to the protocol's fee receiver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeeReceivers {
    /// `POSITION_FEE_RECEIVER_FACTOR`.
    pub position: f64,
    /// `SWAP_FEE_RECEIVER_FACTOR` (deposits, withdrawals).
    pub swap: f64,
    /// `BORROWING_FEE_RECEIVER_FACTOR`.
    pub borrowing: f64,
    /// `LIQUIDATION_FEE_RECEIVER_FACTOR`.
    pub liquidation: f64,
}

impl FeeReceivers {
    /// Arbitrum mainnet (`config/general.ts`): 37 % of every fee.
    pub const MAINNET: FeeReceivers = FeeReceivers {
        position: 0.37,
        swap: 0.37,
        borrowing: 0.37,
        liquidation: 0.37,
    };
}

/// A GMX-style venue: one or more GM markets whose tokens the LPs hold,
/// optionally wrapped in a GLV.
#[derive(Debug, Clone, PartialEq)]
pub struct GmParams {
    /// Venue name from the scenario.
    pub name: String,
    /// Total LP deposit at t = 0, USD, split across markets by weight. GM
    /// and GLV tokens start at $1.
    pub pool_usd: f64,
    /// The GLV wrapper, if any.
    pub glv: Option<GlvParams>,
    /// PnL cap in the reported LP token price (withdrawals for GM, deposits for GLV).
    pub lp_price_cap: PnlCap,
    /// Fee receiver shares.
    pub fee_receivers: FeeReceivers,
    /// Average referral terms applied to every position fee.
    pub referral: Referral,
    /// `SKIP_BORROWING_FEE_FOR_SMALLER_SIDE` (mainnet: true).
    pub skip_borrowing_for_smaller_side: bool,
    /// Delay before impact beyond the cap can be claimed back, seconds (mainnet: 5 days).
    pub claimable_delay_s: u64,
    /// ADL keeper's ranking.
    pub adl_ranking: AdlRanking,
    /// The markets, in scenario order.
    pub markets: Vec<GmMarketParams>,
}

/// GLV keeper and limit parameters (MECHANISMS.md 1.15).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlvParams {
    /// Least time between shifts, seconds (Arbitrum: 30 min).
    pub shift_min_interval_s: u64,
    /// Largest value lost to price impact in a shift, fraction of the value shifted (0.025 %).
    pub shift_max_loss_factor: f64,
    /// The keeper shifts when the most and least utilized markets differ by more than this.
    pub shift_utilization_gap: f64,
    /// Share of the source market's GLV balance moved by one shift.
    pub shift_fraction: f64,
}

/// One GM market.
#[derive(Debug, Clone, PartialEq)]
pub struct GmMarketParams {
    /// Market name from the scenario.
    pub name: String,
    /// Scenario asset traded.
    pub index: usize,
    /// Long token (scenario asset): backs longs.
    pub long_token: usize,
    /// Short token (scenario asset): backs shorts. Equal to `long_token` for a single-token market.
    pub short_token: usize,
    /// Share of the venue's starting pool value, fraction.
    pub weight: f64,
    /// Share of the market's starting pool value held in the long token.
    pub long_share: f64,
    /// Impact flow.
    pub impact_flow: ImpactFlow,
    /// Position impact kernel.
    pub position_impact: ImpactFactors,
    /// Cap on positive position impact, fraction of size.
    pub max_positive_impact: f64,
    /// Cap on negative impact charged at a decrease, fraction of size (beyond it: claimable).
    pub max_negative_impact: f64,
    /// Cap on negative impact counted in the liquidation check, fraction of size (mainnet: 0).
    pub max_impact_for_liquidations: f64,
    /// Swap impact kernel (deposits).
    pub swap_impact: ImpactFactors,
    /// Impact pool paid back to LPs, index tokens per second.
    pub impact_pool_distribution_per_s: f64,
    /// Impact pool kept back from distribution, index tokens.
    pub min_impact_pool_tokens: f64,
    /// Position fee factor when the trade improves balance.
    pub position_fee_positive: f64,
    /// Position fee factor when the trade worsens balance.
    pub position_fee_negative: f64,
    /// Liquidation fee factor, fraction of size.
    pub liquidation_fee: f64,
    /// Deposit and withdrawal fee factor when balance improves.
    pub swap_fee_positive: f64,
    /// Deposit and withdrawal fee factor when balance worsens (withdrawals use it).
    pub swap_fee_negative: f64,
    /// Borrowing model (both sides).
    pub borrow: BorrowModel,
    /// Kink usage ignores open interest / max open interest.
    pub ignore_oi_for_usage: bool,
    /// Funding.
    pub funding: FundingParams,
    /// `reserveFactor`: reserved USD ≤ this · side pool USD.
    pub reserve_factor: f64,
    /// `openInterestReserveFactor`.
    pub oi_reserve_factor: f64,
    /// Largest long open interest, USD.
    pub max_oi_long_usd: f64,
    /// Largest short open interest, USD.
    pub max_oi_short_usd: f64,
    /// Collateral at open ≥ this fraction of size (1 / max leverage).
    pub min_collateral_factor: f64,
    /// Liquidation below this fraction of size.
    pub min_collateral_factor_for_liquidation: f64,
    /// `minCollateralFactorForOpenInterestMultiplier`, per USD of side OI.
    pub min_collateral_oi_multiplier: f64,
    /// Smallest collateral, USD.
    pub min_collateral_usd: f64,
    /// PnL caps.
    pub pnl_caps: PnlCaps,
    /// GLV's largest holding of this market, USD (`INFINITY`: none).
    pub glv_max_usd: f64,
}

impl GmMarketParams {
    /// Whether long and short token are the same (pool divisor 2).
    pub fn single_token(&self) -> bool {
        self.long_token == self.short_token
    }

    /// Whether the long token is the index (longs are paid in the asset they trade).
    pub fn fully_backed(&self) -> bool {
        self.long_token == self.index
    }

    /// "fully backed", "synthetic" or "single-token".
    pub fn market_type(&self) -> &'static str {
        if self.single_token() {
            "single-token"
        } else if self.fully_backed() {
            "fully backed"
        } else {
            "synthetic"
        }
    }
}

const HOUR: f64 = 3600.0;

fn per_s(apr: f64) -> f64 {
    apr / SECONDS_PER_YEAR
}

/// A published market configuration to start from (MECHANISMS.md 1.14,
/// `config/markets.ts`, Arbitrum, March 2026). Values not in the table come
/// from the base configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketPreset {
    /// `baseMarketConfig`.
    Base,
    /// `synthethicMarketConfig`: lower PnL caps.
    Synthetic,
    /// `singleTokenMarketConfig`: lower reserve factors, no swap fees or impact.
    SingleToken,
    /// ETH/USD [WETH-USDC].
    Eth,
    /// BTC/USD [WBTC.e-USDC].
    Btc,
    /// SOL/USD [SOL-USDC].
    Sol,
    /// ETH/USD [WETH-WETH].
    EthSingle,
    /// DOGE/USD [WETH-USDC], synthetic.
    Doge,
    /// PEPE/USD [WETH-USDC], synthetic.
    Pepe,
    /// WIF/USD [WIF-USDC].
    Wif,
    /// TRUMP/USD [WETH-USDC], synthetic.
    Trump,
}

impl MarketPreset {
    /// Every preset with its scenario name.
    pub const ALL: [(&'static str, MarketPreset); 11] = [
        ("base", MarketPreset::Base),
        ("synthetic", MarketPreset::Synthetic),
        ("single_token", MarketPreset::SingleToken),
        ("eth", MarketPreset::Eth),
        ("btc", MarketPreset::Btc),
        ("sol", MarketPreset::Sol),
        ("eth_single", MarketPreset::EthSingle),
        ("doge", MarketPreset::Doge),
        ("pepe", MarketPreset::Pepe),
        ("wif", MarketPreset::Wif),
        ("trump", MarketPreset::Trump),
    ];

    /// The preset's parameters (tokens, weight and shares are the caller's).
    pub fn params(self) -> GmMarketParams {
        let base_caps = PnlCaps {
            traders: 0.90,
            adl: 0.85,
            after_adl: 0.77,
            deposits: 0.90,
            withdrawals: 0.70,
        };
        let synth_caps = PnlCaps {
            traders: 0.60,
            adl: 0.55,
            after_adl: 0.50,
            deposits: 0.60,
            withdrawals: 0.45,
        };
        // Adaptive funding reaching `max` in 3 h at 100 % imbalance, floor 1 %/yr, stable band 4 %.
        let adaptive = |max_apr: f64| FundingParams {
            factor: 2e-8,
            exponent: 1.0,
            increase_per_s2: per_s(max_apr) / (3.0 * HOUR),
            decrease_per_s2: 0.0,
            threshold_stable: 0.04,
            threshold_decrease: 0.0,
            min_per_s: per_s(0.01),
            max_per_s: per_s(max_apr),
        };
        let kink = |opt: f64, base: f64, above: f64| BorrowModel::Kink {
            optimal_usage: opt,
            base_per_s: per_s(base),
            above_optimal_per_s: per_s(above),
        };
        let impact = |neg: f64, pos: f64, neg_exp: f64| ImpactFactors {
            positive: pos,
            negative: neg,
            positive_exponent: 1.0,
            negative_exponent: neg_exp,
        };
        let mut p = GmMarketParams {
            name: String::new(),
            index: 0,
            long_token: 0,
            short_token: 0,
            weight: 1.0,
            long_share: 0.5,
            impact_flow: ImpactFlow::Pending,
            position_impact: ImpactFactors {
                positive: 5e-8,
                negative: 1e-7,
                positive_exponent: 1.0,
                negative_exponent: 2.0,
            },
            max_positive_impact: 0.004,
            max_negative_impact: 0.005,
            max_impact_for_liquidations: 0.0,
            swap_impact: ImpactFactors {
                positive: 5e-6,
                negative: 1e-5,
                positive_exponent: 2.0,
                negative_exponent: 2.0,
            },
            impact_pool_distribution_per_s: 0.0,
            min_impact_pool_tokens: 0.0,
            position_fee_positive: 0.0004,
            position_fee_negative: 0.0006,
            liquidation_fee: 0.002,
            swap_fee_positive: 0.0005,
            swap_fee_negative: 0.0007,
            borrow: kink(0.75, 0.50, 1.00),
            ignore_oi_for_usage: false,
            funding: adaptive(0.90),
            reserve_factor: 0.95,
            oi_reserve_factor: 0.90,
            max_oi_long_usd: 1e9,
            max_oi_short_usd: 1e9,
            min_collateral_factor: 0.01,
            min_collateral_factor_for_liquidation: 0.01,
            min_collateral_oi_multiplier: 0.0,
            min_collateral_usd: 1.0,
            pnl_caps: base_caps,
            glv_max_usd: f64::INFINITY,
        };
        let mut set = |reserve: f64, oi_reserve: f64, max_oi: f64, min_coll: f64, mult: f64| {
            p.reserve_factor = reserve;
            p.oi_reserve_factor = oi_reserve;
            p.max_oi_long_usd = max_oi;
            p.max_oi_short_usd = max_oi;
            p.min_collateral_factor = min_coll;
            p.min_collateral_factor_for_liquidation = min_coll;
            p.min_collateral_oi_multiplier = mult;
        };
        match self {
            MarketPreset::Base => {}
            MarketPreset::Synthetic => {
                p.pnl_caps = synth_caps;
                p.liquidation_fee = 0.003;
            }
            MarketPreset::SingleToken => {
                set(0.40, 0.35, 1e9, 0.01, 0.0);
                p.swap_fee_positive = 0.0;
                p.swap_fee_negative = 0.0;
                p.swap_impact = ImpactFactors::ZERO;
                p.liquidation_fee = 0.003;
            }
            MarketPreset::Eth => {
                set(2.75, 2.70, 110e6, 0.005, 6e-11);
                p.position_impact = impact(9e-11, 3e-11, 2.0);
                p.funding = adaptive(0.75);
                p.borrow = kink(0.85, 0.45, 0.90);
            }
            MarketPreset::Btc => {
                set(3.50, 3.45, 95e6, 0.005, 6e-11);
                p.position_impact = impact(9e-11, 3e-11, 2.0);
                p.funding = adaptive(0.75);
                p.borrow = kink(0.85, 0.45, 0.90);
            }
            MarketPreset::Sol => {
                set(3.80, 3.75, 17.5e6, 0.005, 2e-10);
                p.position_impact = impact(1.35e-9, 0.45e-9, 2.0);
                p.borrow = kink(0.85, 0.45, 0.90);
            }
            MarketPreset::EthSingle => {
                set(1.05, 1.00, 12e6, 0.005, 0.0);
                p.position_impact = impact(2e-15, 1e-15, 1.0);
                p.swap_fee_positive = 0.0;
                p.swap_fee_negative = 0.0;
                p.swap_impact = ImpactFactors::ZERO;
                p.liquidation_fee = 0.003;
                p.borrow = kink(0.75, 0.50, 1.30);
            }
            MarketPreset::Doge => {
                set(1.85, 1.80, 19e6, 0.005, 1e-9);
                p.position_impact = impact(3.18e-7, 1.06e-7, 1.62);
                p.pnl_caps = synth_caps;
                p.liquidation_fee = 0.003;
                p.borrow = kink(0.75, 0.50, 1.30);
            }
            MarketPreset::Pepe => {
                set(0.95, 0.90, 1e6, 0.01, 2.5e-9);
                p.position_impact = impact(5e-10, 2.5e-10, 2.2);
                p.pnl_caps = PnlCaps {
                    traders: 0.50,
                    adl: 0.45,
                    after_adl: 0.40,
                    deposits: 0.50,
                    withdrawals: 0.35,
                };
                p.liquidation_fee = 0.003;
                p.funding = adaptive(1.25);
                p.borrow = kink(0.75, 0.55, 1.30);
            }
            MarketPreset::Wif => {
                set(1.25, 1.20, 0.5e6, 0.01, 2.5e-9);
                p.position_impact = impact(5e-10, 2.5e-10, 2.2);
                p.borrow = kink(0.75, 0.50, 1.00);
            }
            MarketPreset::Trump => {
                set(1.05, 1.00, 0.1e6, 0.01, 1.11e-8);
                p.position_impact = impact(9.39e-7, 6.26e-7, 1.7);
                p.pnl_caps = synth_caps;
                p.liquidation_fee = 0.0045;
                p.funding = adaptive(1.00);
                p.borrow = kink(0.75, 0.55, 1.30);
            }
        }
        p
    }

    /// Scenario name of the preset.
    pub fn name(self) -> &'static str {
        MarketPreset::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("base", |(n, _)| n)
    }
}

impl GmParams {
    /// Resolved parameters as readable lines.
    pub fn describe(&self, asset_names: &[String]) -> Vec<String> {
        let mut out = vec![format!(
            "{} over {} market(s), pool ${:.0}, LP price with the {} PnL cap, fee receiver {}% (position), ADL ranking {}",
            if self.glv.is_some() { "GLV" } else { "GM" },
            self.markets.len(),
            self.pool_usd,
            self.lp_price_cap.as_str(),
            self.fee_receivers.position * 100.0,
            self.adl_ranking.as_str(),
        )];
        if let Some(g) = &self.glv {
            out.push(format!(
                "  shifts: every {}s at most, when utilization differs by {}, {}% of the source, max loss {}%",
                g.shift_min_interval_s,
                g.shift_utilization_gap,
                g.shift_fraction * 100.0,
                g.shift_max_loss_factor * 100.0
            ));
        }
        for m in &self.markets {
            let n = |a: usize| asset_names[a].as_str();
            let c = &m.pnl_caps;
            out.push(format!(
                "  {}: {}/USD [{}-{}] {}, weight {:.1}%, impact {} (-{:e}^{} / +{:e}^{}), reserve {}, max OI ${:.0}/${:.0}, max leverage {:.0}x, PnL caps traders {} ADL {}->{} deposits {} withdrawals {}",
                m.name,
                n(m.index),
                n(m.long_token),
                n(m.short_token),
                m.market_type(),
                m.weight * 100.0,
                m.impact_flow.as_str(),
                m.position_impact.negative,
                m.position_impact.negative_exponent,
                m.position_impact.positive,
                m.position_impact.positive_exponent,
                m.reserve_factor,
                m.max_oi_long_usd,
                m.max_oi_short_usd,
                1.0 / m.min_collateral_factor,
                c.traders,
                c.adl,
                c.after_adl,
                c.deposits,
                c.withdrawals
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The presets carry the repo's numbers (MECHANISMS.md 1.14).
    #[test]
    fn presets_match_the_published_table() {
        let eth = MarketPreset::Eth.params();
        assert_eq!(eth.position_impact.negative, 9e-11);
        assert_eq!(eth.reserve_factor, 2.75);
        assert_eq!(eth.max_oi_long_usd, 110e6);
        // "0.5 % at $83M OI": 6e-11 · 83e6 ≈ 0.005.
        assert!((eth.min_collateral_oi_multiplier * 83e6 - 0.005).abs() < 1e-4);
        let doge = MarketPreset::Doge.params();
        assert_eq!(doge.position_impact.negative_exponent, 1.62);
        assert_eq!(doge.pnl_caps.adl, 0.55);
        // Default adaptive funding reaches 90 %/yr in 3 h at full imbalance.
        let f = MarketPreset::Sol.params().funding;
        assert!((f.increase_per_s2 * 3.0 * 3600.0 * SECONDS_PER_YEAR - 0.90).abs() < 1e-12);
        let pepe = MarketPreset::Pepe.params();
        assert_eq!(pepe.pnl_caps.withdrawals, 0.35);
        assert!((pepe.funding.max_per_s * SECONDS_PER_YEAR - 1.25).abs() < 1e-12);
        for (name, p) in MarketPreset::ALL {
            assert_eq!(p.name(), name);
            let q = p.params();
            assert!(
                q.pnl_caps.after_adl < q.pnl_caps.adl && q.reserve_factor > 0.0,
                "{name}"
            );
        }
    }
}
