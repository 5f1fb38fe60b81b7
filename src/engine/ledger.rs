//! The one ledger every token transfer of a venue goes through.
//!
//! Balances are token amounts (not USD) per (token, account). Accounts inside
//! the venue (pool, escrow, protocol treasury, insurance fund, claimable) hold
//! what the venue holds; the external accounts (traders' wallets, LPs'
//! wallets) start at zero and go negative by what they paid in. Every
//! transfer is double-entry, so for every token the sum over all accounts is
//! zero, and the sum over internal accounts equals what entered minus what
//! left. A venue additionally reconciles its own state (custody amounts,
//! position collateral) against these balances; see
//! [`crate::venue::Venue::conservation_error_usd`].

/// A ledger account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Account {
    /// The LP pool: tokens owned by LPs (JLP custody `owned`, GM pool amounts).
    Pool = 0,
    /// Trader collateral held by the venue outside the pool (JLP short collateral).
    Escrow = 1,
    /// Protocol treasury: the protocol's share of fees.
    Protocol = 2,
    /// Insurance or backstop fund.
    Insurance = 3,
    /// Amounts owed to users and claimable later.
    Claimable = 4,
    /// External: traders' wallets.
    Traders = 5,
    /// External: LPs' wallets.
    Lps = 6,
    /// External: the other makers and arbitrageurs of an order book, the
    /// counterparties whose positions the venue does not track.
    Makers = 7,
}

/// Number of accounts.
pub const ACCOUNTS: usize = 8;

impl Account {
    /// Every account, in index order.
    pub const ALL: [Account; ACCOUNTS] = [
        Account::Pool,
        Account::Escrow,
        Account::Protocol,
        Account::Insurance,
        Account::Claimable,
        Account::Traders,
        Account::Lps,
        Account::Makers,
    ];

    /// Whether the account is held by the venue.
    pub fn is_internal(self) -> bool {
        !matches!(self, Account::Traders | Account::Lps | Account::Makers)
    }
}

/// Token balances per (token, account).
#[derive(Debug, Clone)]
pub struct Ledger {
    tokens: usize,
    balances: Vec<f64>,
    entered: Vec<f64>,
    left: Vec<f64>,
}

impl Ledger {
    /// An empty ledger over `tokens` tokens.
    pub fn new(tokens: usize) -> Ledger {
        Ledger {
            tokens,
            balances: vec![0.0; tokens * ACCOUNTS],
            entered: vec![0.0; tokens],
            left: vec![0.0; tokens],
        }
    }

    /// Zeroes every balance (start of a path).
    pub fn reset(&mut self) {
        self.balances.fill(0.0);
        self.entered.fill(0.0);
        self.left.fill(0.0);
    }

    /// Number of tokens.
    pub fn tokens(&self) -> usize {
        self.tokens
    }

    /// Moves `amount` tokens of `token` from `from` to `to`. A negative
    /// amount moves the other way.
    #[inline]
    pub fn transfer(&mut self, token: usize, from: Account, to: Account, amount: f64) {
        debug_assert!(amount.is_finite(), "transfer of non-finite amount {amount}");
        if amount < 0.0 {
            self.transfer(token, to, from, -amount);
            return;
        }
        self.balances[token * ACCOUNTS + from as usize] -= amount;
        self.balances[token * ACCOUNTS + to as usize] += amount;
        match (from.is_internal(), to.is_internal()) {
            (false, true) => self.entered[token] += amount,
            (true, false) => self.left[token] += amount,
            _ => {}
        }
    }

    /// Balance of `account` in `token`.
    #[inline]
    pub fn balance(&self, token: usize, account: Account) -> f64 {
        self.balances[token * ACCOUNTS + account as usize]
    }

    /// What the venue holds of `token` over all internal accounts.
    pub fn internal_total(&self, token: usize) -> f64 {
        Account::ALL
            .iter()
            .filter(|a| a.is_internal())
            .map(|&a| self.balance(token, a))
            .sum()
    }

    /// Token residual of the double-entry identity: internal holdings minus
    /// (entered − left), plus the sum over all accounts. Zero up to rounding.
    pub fn residual_tokens(&self, token: usize) -> f64 {
        let all: f64 = Account::ALL.iter().map(|&a| self.balance(token, a)).sum();
        (self.internal_total(token) - (self.entered[token] - self.left[token])).abs() + all.abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_are_double_entry() {
        let mut l = Ledger::new(2);
        l.transfer(0, Account::Lps, Account::Pool, 100.0);
        l.transfer(0, Account::Traders, Account::Pool, 5.0);
        l.transfer(0, Account::Pool, Account::Protocol, 1.25);
        l.transfer(0, Account::Pool, Account::Traders, -2.0); // trader pays 2 more
        l.transfer(1, Account::Traders, Account::Escrow, 10.0);
        l.transfer(1, Account::Escrow, Account::Traders, 4.0);
        assert_eq!(l.balance(0, Account::Pool), 105.75);
        assert_eq!(l.balance(0, Account::Traders), -7.0);
        assert_eq!(l.internal_total(0), 107.0);
        assert_eq!(l.internal_total(1), 6.0);
        assert_eq!(l.residual_tokens(0), 0.0);
        assert_eq!(l.residual_tokens(1), 0.0);
    }
}
