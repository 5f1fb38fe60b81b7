//! Integration tests: one binary, one module per feature.

mod bad_input;
mod book_properties;
mod cli;
mod common;
mod determinism;
mod gm_properties;
mod population;
mod properties;
mod reference;
mod reports;
mod scripted_book;
mod scripted_gm;
mod scripted_jlp;
