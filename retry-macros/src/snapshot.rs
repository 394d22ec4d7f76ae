//! The expansion snapshots (tests only): one generated item, pretty-printed
//! and compared with `tests/snapshots/{name}.rs.snap`, or written there under
//! `UPDATE_SNAPSHOTS=1`. Both macros' snapshot tests (`expand`'s and
//! `derive`'s) go through it.

use proc_macro2::TokenStream;

/// Whether this run rewrites the snapshots (`UPDATE_SNAPSHOTS` set).
pub(crate) fn updating() -> bool {
    std::env::var_os("UPDATE_SNAPSHOTS").is_some()
}

/// `out` pretty-printed (it must parse as a file), then written to the
/// snapshot `name` when `update`, else compared with it: the expansion of
/// `name` as the file holds it.
pub(crate) fn check(name: &str, out: TokenStream, update: bool) -> String {
    let file: syn::File =
        syn::parse2(out).unwrap_or_else(|e| panic!("{name}: not valid Rust: {e}"));
    let pretty = prettyplease::unparse(&file);
    let path = format!(
        "{}/tests/snapshots/{name}.rs.snap",
        env!("CARGO_MANIFEST_DIR")
    );
    if update {
        std::fs::write(&path, &pretty).unwrap_or_else(|e| panic!("{path}: {e}"));
        return pretty;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run with UPDATE_SNAPSHOTS=1"));
    assert_eq!(
        pretty, expected,
        "expansion of {name} changed; review it and rerun with UPDATE_SNAPSHOTS=1"
    );
    pretty
}
