//! Integration tests: one binary, one module per feature.

mod bad_input;
mod cli;
mod common;
mod determinism;
mod population;
mod properties;
mod reference;
mod scripted_jlp;
