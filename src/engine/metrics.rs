//! Per-path, per-venue metrics: one row of `paths.csv`.

/// A metric of one path on one venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Metric {
    LpReturn,
    HoldReturn,
    ExcessReturn,
    LpPnlUsd,
    MaxDrawdown,
    EndLpPrice,
    BadDebtUsd,
    AdlUsd,
    AdlEvents,
    LiquidatedUsd,
    Liquidations,
    FeesUsd,
    OpenCloseFeesUsd,
    ImpactFeesUsd,
    BorrowFeesUsd,
    LiquidationFeesUsd,
    FundingUsd,
    FeesToPoolUsd,
    FeesToProtocolUsd,
    TraderPnlUsd,
    VolumeUsd,
    Trades,
    PeakOiUsd,
    PeakUtilization,
    OpenPositionsEnd,
    RejectedOrders,
    RejectedPositionSize,
    RejectedOpenInterest,
    RejectedUtilization,
    RejectedLeverage,
    RejectedReserve,
    LpDepositsUsd,
    LpWithdrawalsUsd,
    ShiftedUsd,
    VaultSpreadUsd,
    VaultInventoryUsd,
    VaultFundingUsd,
    VaultBackstopUsd,
    VaultFeesUsd,
    LiquidatedBookUsd,
    LiquidatedBackstopUsd,
    PeakCascadeDepth,
    PeakTraderPnlToPool,
    ConservationError,
}

/// Number of metrics.
pub const N_METRICS: usize = 44;

/// Name, unit and meaning of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricInfo {
    /// Which metric.
    pub metric: Metric,
    /// Column name in `paths.csv` and key in `summary.json`.
    pub name: &'static str,
    /// Unit.
    pub unit: &'static str,
    /// What it measures.
    pub doc: &'static str,
}

const fn info(metric: Metric, name: &'static str, unit: &'static str, doc: &'static str) -> MetricInfo {
    MetricInfo {
        metric,
        name,
        unit,
        doc,
    }
}

/// Every metric in column order.
pub const METRICS: [MetricInfo; N_METRICS] = [
    info(
        Metric::LpReturn,
        "lp_return",
        "fraction",
        "LP token price at the horizon over its price at t = 0, minus 1",
    ),
    info(
        Metric::HoldReturn,
        "hold_return",
        "fraction",
        "return of simply holding the pool's starting token basket",
    ),
    info(
        Metric::ExcessReturn,
        "excess_return",
        "fraction",
        "lp_return minus hold_return",
    ),
    info(
        Metric::LpPnlUsd,
        "lp_pnl_usd",
        "USD",
        "LP token price change over the horizon times the final LP supply (the pool's gain net of LP deposits and withdrawals)",
    ),
    info(
        Metric::MaxDrawdown,
        "max_drawdown",
        "fraction",
        "largest fall of the LP token price from a previous peak, checked every step",
    ),
    info(
        Metric::EndLpPrice,
        "end_lp_price",
        "USD",
        "LP token price at the horizon",
    ),
    info(
        Metric::BadDebtUsd,
        "bad_debt_usd",
        "USD",
        "costs a closing position could not pay (losses beyond collateral), borne by the pool",
    ),
    info(Metric::AdlUsd, "adl_usd", "USD", "notional closed by auto-deleveraging"),
    info(
        Metric::AdlEvents,
        "adl_events",
        "count",
        "auto-deleveraging orders executed",
    ),
    info(
        Metric::LiquidatedUsd,
        "liquidated_usd",
        "USD",
        "size of liquidated positions",
    ),
    info(Metric::Liquidations, "liquidations", "count", "number of liquidations"),
    info(
        Metric::FeesUsd,
        "fees_usd",
        "USD",
        "all fees collected: open/close, impact, borrow, liquidation",
    ),
    info(
        Metric::OpenCloseFeesUsd,
        "open_close_fees_usd",
        "USD",
        "base open and close fees",
    ),
    info(Metric::ImpactFeesUsd, "impact_fees_usd", "USD", "price-impact fees"),
    info(Metric::BorrowFeesUsd, "borrow_fees_usd", "USD", "borrow fees settled"),
    info(
        Metric::LiquidationFeesUsd,
        "liquidation_fees_usd",
        "USD",
        "collateral seized by the pool on liquidation",
    ),
    info(
        Metric::FundingUsd,
        "funding_usd",
        "USD",
        "funding passed between traders through the venue",
    ),
    info(
        Metric::FeesToPoolUsd,
        "fees_to_pool_usd",
        "USD",
        "part of the fees that went to the pool",
    ),
    info(
        Metric::FeesToProtocolUsd,
        "fees_to_protocol_usd",
        "USD",
        "part of the fees that went to the protocol",
    ),
    info(
        Metric::TraderPnlUsd,
        "trader_pnl_usd",
        "USD",
        "traders' payouts plus open equity at the horizon minus deposits and starting equity",
    ),
    info(
        Metric::VolumeUsd,
        "volume_usd",
        "USD",
        "notional opened and closed, liquidations included",
    ),
    info(
        Metric::Trades,
        "trades",
        "count",
        "executed opens, increases, closes and liquidations",
    ),
    info(
        Metric::PeakOiUsd,
        "peak_oi_usd",
        "USD",
        "highest total open interest, long plus short",
    ),
    info(
        Metric::PeakUtilization,
        "peak_utilization",
        "fraction",
        "highest utilization of any custody (JLP) or reserve usage of any market side (GM)",
    ),
    info(
        Metric::OpenPositionsEnd,
        "open_positions_end",
        "count",
        "positions open at the horizon",
    ),
    info(
        Metric::RejectedOrders,
        "rejected_orders",
        "count",
        "orders refused for any reason",
    ),
    info(
        Metric::RejectedPositionSize,
        "rejected_position_size",
        "count",
        "orders refused by the per-position size cap",
    ),
    info(
        Metric::RejectedOpenInterest,
        "rejected_open_interest",
        "count",
        "orders refused by a global long or short cap",
    ),
    info(
        Metric::RejectedUtilization,
        "rejected_utilization",
        "count",
        "orders refused by the utilization cap",
    ),
    info(
        Metric::RejectedLeverage,
        "rejected_leverage",
        "count",
        "orders refused by the leverage cap",
    ),
    info(
        Metric::RejectedReserve,
        "rejected_reserve",
        "count",
        "orders refused by a reserve or open-interest reserve factor",
    ),
    info(
        Metric::LpDepositsUsd,
        "lp_deposits_usd",
        "USD",
        "value LPs deposited after t = 0",
    ),
    info(
        Metric::LpWithdrawalsUsd,
        "lp_withdrawals_usd",
        "USD",
        "value paid to withdrawing LPs",
    ),
    info(
        Metric::ShiftedUsd,
        "shifted_usd",
        "USD",
        "value moved between markets by vault keepers (GLV shifts)",
    ),
    info(
        Metric::VaultSpreadUsd,
        "vault_spread_usd",
        "USD",
        "order-book vault: spread captured by its quotes (fill against mid)",
    ),
    info(
        Metric::VaultInventoryUsd,
        "vault_inventory_usd",
        "USD",
        "order-book vault: market-making PnL after spread, fees and funding (inventory and adverse selection)",
    ),
    info(
        Metric::VaultFundingUsd,
        "vault_funding_usd",
        "USD",
        "order-book vault: funding received on its positions (negative: paid)",
    ),
    info(
        Metric::VaultBackstopUsd,
        "vault_backstop_usd",
        "USD",
        "order-book vault: result of positions it inherited as backstop (buffers, losses, unwinding)",
    ),
    info(
        Metric::VaultFeesUsd,
        "vault_fees_usd",
        "USD",
        "order-book vault: its share of trading fees and liquidation fees",
    ),
    info(
        Metric::LiquidatedBookUsd,
        "liquidated_book_usd",
        "USD",
        "liquidated notional closed through the order book",
    ),
    info(
        Metric::LiquidatedBackstopUsd,
        "liquidated_backstop_usd",
        "USD",
        "liquidated notional taken over by the vault's backstop",
    ),
    info(
        Metric::PeakCascadeDepth,
        "peak_cascade_depth",
        "count",
        "most liquidation rounds in one step (each round's fills moved the mark)",
    ),
    info(
        Metric::PeakTraderPnlToPool,
        "peak_trader_pnl_to_pool",
        "fraction",
        "highest traders' claim on the pool over its size, sampled at the chart points: 1 − LP price growth / hold-basket growth (trader PnL, realised and open, net of fees and bad debt, over what the LPs' starting tokens are worth); 1 means trader profit has consumed the pool",
    ),
    info(
        Metric::ConservationError,
        "conservation_error",
        "USD",
        "mismatch between the ledger, the venue state and the value identity (0 up to rounding)",
    ),
];

/// One row: the metrics of one path on one venue.
#[derive(Debug, Clone, PartialEq)]
pub struct PathMetrics {
    /// Path index.
    pub path: u64,
    /// Venue index in scenario order.
    pub venue: usize,
    /// The path's seed, derived from (master seed, path index).
    pub seed: u64,
    /// Values in [`METRICS`] order.
    pub values: [f64; N_METRICS],
}

impl PathMetrics {
    /// Value of `m`.
    pub fn get(&self, m: Metric) -> f64 {
        self.values[m as usize]
    }

    /// The first metric that is not finite, if any.
    pub fn first_non_finite(&self) -> Option<&'static str> {
        METRICS
            .iter()
            .zip(&self.values)
            .find(|(_, v)| !v.is_finite())
            .map(|(i, _)| i.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_enum_order_with_unique_names() {
        for (i, m) in METRICS.iter().enumerate() {
            assert_eq!(m.metric as usize, i, "{}", m.name);
        }
        let mut names: Vec<_> = METRICS.iter().map(|m| m.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), N_METRICS);
    }
}
