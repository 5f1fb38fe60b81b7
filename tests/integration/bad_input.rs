//! Bad scenarios: every case exits 2, names the file, the key and the
//! reason, and creates no output.
