//! Property tests of the two entry points, `expand::retry` and
//! `derive::classify`: whatever tokens a user writes, they return (a panic
//! would reach the user as "proc macro panicked" with no span), and when
//! the input is valid Rust so is the output (an expansion or
//! `compile_error!`s beside the item).
//!
//! The inputs are the compile tests' own cases (every `#[retry(...)]` and
//! `#[derive(Classify)]` item under `compile-tests/tests/ui/`, each near
//! some edge of what the macros accept), changed a few tokens at a time:
//! a token deleted, repeated, swapped with its neighbour, replaced by one
//! of its kind from a pool of keys, kinds, literals and punctuation, or
//! one from the pool inserted; a group emptied, or the rest of a level cut
//! off from a token that is not a group; at any depth. The runner is deterministic, so CI sees the same
//! cases each run; `RETRY_MACROS_CASES=100000 RETRY_MACROS_SEED=random`
//! explores further (a finding becomes a case here or a compile test).

use std::path::Path;

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// One input: the attribute's arguments (`None` for a derive) and the item.
#[derive(Clone, Debug)]
struct Seed {
    file: String,
    args: Option<TokenStream>,
    item: TokenStream,
}

/// Every `#[retry(..)]` function (free, or in an `impl` or `mod`) and
/// every item deriving `Classify` in the compile tests' cases, the
/// `#[retry]` attribute itself taken off the function as rustc does.
fn seeds() -> Vec<Seed> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../compile-tests/tests/ui");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    let mut seeds = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a readable case");
        // a case that is not valid Rust on purpose is not a seed
        let Ok(file) = syn::parse_file(&text) else {
            continue;
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        collect(file.items, &name, &mut seeds);
    }
    seeds
}

fn collect(items: Vec<syn::Item>, file: &str, seeds: &mut Vec<Seed>) {
    for item in items {
        match item {
            syn::Item::Fn(mut f) => {
                let args = take_retry(&mut f.attrs);
                push_fn(seeds, file, args, quote::quote!(#f));
            }
            syn::Item::Impl(block) => {
                for inner in block.items {
                    if let syn::ImplItem::Fn(mut f) = inner {
                        let args = take_retry(&mut f.attrs);
                        push_fn(seeds, file, args, quote::quote!(#f));
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = m.content {
                    collect(inner, file, seeds);
                }
            }
            syn::Item::Enum(_) | syn::Item::Struct(_) | syn::Item::Union(_) => {
                let attrs = match &item {
                    syn::Item::Enum(e) => &e.attrs,
                    syn::Item::Struct(s) => &s.attrs,
                    syn::Item::Union(u) => &u.attrs,
                    _ => continue,
                };
                let derives_classify = attrs.iter().any(|attr| {
                    attr.path().is_ident("derive")
                        && attr
                            .meta
                            .require_list()
                            .is_ok_and(|list| list.tokens.to_string().contains("Classify"))
                });
                if derives_classify {
                    seeds.push(Seed {
                        file: file.into(),
                        args: None,
                        item: quote::quote!(#item),
                    });
                }
            }
            _ => {}
        }
    }
}

/// A function's seed, when it had a `#[retry]` (its `args`).
fn push_fn(seeds: &mut Vec<Seed>, file: &str, args: Option<TokenStream>, item: TokenStream) {
    if let Some(args) = args {
        seeds.push(Seed {
            file: file.into(),
            args: Some(args),
            item,
        });
    }
}

/// The arguments of the first `#[retry(..)]` (or bare `#[retry]`) among
/// `attrs`, which is removed.
fn take_retry(attrs: &mut Vec<syn::Attribute>) -> Option<TokenStream> {
    let at = attrs.iter().position(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "retry")
    })?;
    let attr = attrs.remove(at);
    Some(match attr.meta {
        syn::Meta::List(list) => list.tokens,
        _ => TokenStream::new(),
    })
}

/// What a replaced or inserted token can be: the macros' own words (every
/// key, kind and preset, from `vocab`), and the literals and punctuation at
/// the edges of what they accept.
fn pool() -> Vec<TokenTree> {
    const WORDS: [&str; 8] = [
        "classify",
        "retry_after",
        "transparent",
        "default",
        "self",
        "async",
        "Result",
        "attempt",
    ];
    const LITERALS: [&str; 11] = [
        "0",
        "1",
        "3",
        "18446744073709551616",
        "1.5",
        "\"\"",
        "\"exp(1s,4s)\"",
        "\"none\"",
        "\"1s\"",
        "\"full\"",
        "'a'",
    ];
    let word = |w: &str| TokenTree::Ident(Ident::new(w, Span::call_site()));
    let mut pool: Vec<TokenTree> = crate::vocab::Key::ALL
        .iter()
        .map(|key| word(key.name()))
        .collect();
    pool.extend(crate::vocab::KINDS.iter().chain(&WORDS).map(|w| word(w)));
    pool.push(word("true"));
    let presets = crate::vocab::PRESETS.map(|p| format!("{p:?}"));
    for text in LITERALS
        .iter()
        .copied()
        .chain(presets.iter().map(String::as_str))
    {
        pool.push(TokenTree::Literal(text.parse().expect("a literal")));
    }
    pool.extend(
        ['=', ',', '|', ':', '&', '!', '<', '-', '#']
            .map(|ch| TokenTree::Punct(Punct::new(ch, Spacing::Alone))),
    );
    pool.push(TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        TokenStream::new(),
    )));
    pool
}

/// One change to a token stream: `at` picks the place (a position at some
/// depth, groups counted in), `op` what happens there.
#[derive(Clone, Copy, Debug)]
struct Change {
    at: usize,
    op: u8,
    with: usize,
}

fn change_strategy() -> impl Strategy<Value = Change> {
    (any::<usize>(), 0u8..6, any::<usize>()).prop_map(|(at, op, with)| Change { at, op, with })
}

/// Applies `change` at the `change.at`-th place of `stream` (counted
/// depth-first, modulo the number of places); returns the new stream.
fn apply(stream: TokenStream, change: Change) -> TokenStream {
    let places = count_places(&stream);
    let mut target = change.at % places.max(1);
    edit(stream, &mut target, change)
}

/// The positions a change can be made at: each token of each level, plus
/// one past the end of each level (for insertions and empty groups).
fn count_places(stream: &TokenStream) -> usize {
    stream
        .clone()
        .into_iter()
        .map(|tt| match &tt {
            TokenTree::Group(g) => 1 + count_places(&g.stream()),
            _ => 1,
        })
        .sum::<usize>()
        + 1
}

fn edit(stream: TokenStream, target: &mut usize, change: Change) -> TokenStream {
    let mut tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut i = 0;
    while i <= tokens.len() {
        if *target == 0 {
            change_at(&mut tokens, i, change);
            *target = usize::MAX;
            return tokens.into_iter().collect();
        }
        *target -= 1;
        if let Some(TokenTree::Group(g)) = tokens.get(i) {
            let places = count_places(&g.stream());
            if *target < places {
                let mut inner = Group::new(g.delimiter(), edit(g.stream(), target, change));
                inner.set_span(g.span());
                tokens[i] = TokenTree::Group(inner);
                return tokens.into_iter().collect();
            }
            *target -= places;
        }
        i += 1;
    }
    tokens.into_iter().collect()
}

/// The `i`-th token of the pool (modulo its size), among those like `like`
/// when given: a word for a word, a literal for a literal (`attempts = 3`
/// becomes `attempts = 18446744073709551616` more often than `attempts = |`).
fn from_pool(i: usize, like: Option<&TokenTree>) -> TokenTree {
    let same_kind = |tt: &TokenTree| match (tt, like) {
        (_, None) => true,
        (TokenTree::Ident(_), Some(TokenTree::Ident(_)))
        | (TokenTree::Literal(_), Some(TokenTree::Literal(_)))
        | (TokenTree::Punct(_), Some(TokenTree::Punct(_)))
        | (TokenTree::Group(_), Some(TokenTree::Group(_))) => true,
        // `true` is an ident that stands for a literal
        (TokenTree::Ident(w), Some(TokenTree::Literal(_))) => w == "true",
        _ => false,
    };
    let pool: Vec<TokenTree> = pool().into_iter().filter(same_kind).collect();
    pool[i % pool.len()].clone()
}

fn change_at(tokens: &mut Vec<TokenTree>, i: usize, change: Change) {
    let len = tokens.len();
    match change.op {
        0 if i < len => {
            tokens.remove(i);
        }
        1 if i < len => tokens.insert(i, tokens[i].clone()),
        2 if i + 1 < len => tokens.swap(i, i + 1),
        3 if i < len => tokens[i] = from_pool(change.with, Some(&tokens[i])),
        4 => match tokens.get_mut(i) {
            Some(TokenTree::Group(g)) => *g = Group::new(g.delimiter(), TokenStream::new()),
            _ => tokens.truncate(i),
        },
        _ => tokens.insert(i.min(len), from_pool(change.with, None)),
    }
}

/// Runs the macro on the changed seed: no panic, and valid Rust out when
/// valid Rust went in.
fn check(seed: &Seed, changes: &[Change]) -> Result<(), TestCaseError> {
    let mut args = seed.args.clone();
    let mut item = seed.item.clone();
    for (n, &change) in changes.iter().enumerate() {
        match &mut args {
            // two changes in three, about, go to the attribute's arguments
            Some(a) if n % 2 == 0 || change.with % 3 == 0 => *a = apply(std::mem::take(a), change),
            _ => item = apply(item, change),
        }
    }
    let (args_in, item_in) = (args.clone(), item.clone());
    let out = quietly(move || match args {
        Some(args) => crate::expand::retry(args, item),
        None => crate::derive::classify(item),
    });
    let shown = || {
        format!(
            "seed {} with args `{}` on `{item_in}`",
            seed.file,
            args_in
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        )
    };
    let out = out.map_err(|_| TestCaseError::fail(format!("panicked: {}", shown())))?;
    // rustc parses a bare `crate` as a path (`retry_if = crate` is E0423
    // "expected function, found module" on the user's token); syn does not
    if syn::parse2::<syn::Item>(item_in.clone()).is_ok()
        && !args_in.as_ref().is_some_and(has_bare_crate)
    {
        syn::parse2::<syn::File>(out.clone()).map_err(|e| {
            TestCaseError::fail(format!("output is not Rust ({e}): {}\n{out}", shown()))
        })?;
    }
    Ok(())
}

std::thread_local! {
    /// This thread is inside [`quietly`]: its panics are caught and
    /// reported as the shrunk case, not printed one by one.
    static QUIET: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// `f()`, its panic caught and not printed (each would print a message
/// and a backtrace, thousands while proptest shrinks). The panic hook
/// stays quiet on this thread only while `f` runs: every other test's
/// panic, on its own thread or after, is printed by the hook that was
/// there before, so a failing test beside this one keeps its message.
fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(core::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    out
}

/// Whether `stream` has a `crate` that does not start a path or a key.
fn has_bare_crate(stream: &TokenStream) -> bool {
    let tokens: Vec<TokenTree> = stream.clone().into_iter().collect();
    tokens.iter().enumerate().any(|(i, tt)| match tt {
        TokenTree::Ident(ident) => {
            ident == "crate" && !matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':' || p.as_char() == '=')
        }
        TokenTree::Group(g) => has_bare_crate(&g.stream()),
        _ => false,
    })
}

fn runner() -> TestRunner {
    let cases = std::env::var("RETRY_MACROS_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    match std::env::var("RETRY_MACROS_SEED").as_deref() {
        Ok("random") => TestRunner::new(config),
        _ => TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha)),
    }
}

#[test]
fn the_macros_return_whatever_the_tokens() {
    let seeds = seeds();
    // the seeds come from both macros' cases: a path that moved would
    // leave this test with nothing to change
    assert!(
        seeds.iter().filter(|s| s.args.is_some()).count() > 100,
        "{} seeds",
        seeds.len()
    );
    assert!(
        seeds.iter().filter(|s| s.args.is_none()).count() > 20,
        "{} seeds",
        seeds.len()
    );
    let strategy = (
        0..seeds.len(),
        proptest::collection::vec(change_strategy(), 1..5),
    );
    let result = runner().run(&strategy, |(i, changes)| check(&seeds[i], &changes));
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn the_seeds_themselves_expand() {
    // no change at all: each case's own item goes through as in the ui
    // tests (the check is the same as above)
    for seed in seeds() {
        check(&seed, &[]).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_change_is_made_at_every_depth() {
    let stream: TokenStream = "a (b [c]) d".parse().expect("tokens");
    let places = count_places(&stream);
    assert_eq!(
        places, 9,
        "a ( b [ c END ] END ) d END: 4 tokens, 2 groups' contents and their ends"
    );
    let deleted: Vec<String> = (0..places)
        .map(|at| apply(stream.clone(), Change { at, op: 0, with: 0 }).to_string())
        .collect();
    // a deletion at a level's end (nothing there) inserts a word instead
    assert_eq!(
        deleted,
        [
            "(b [c]) d",
            "a d",
            "a ([c]) d",
            "a (b) d",
            "a (b []) d",
            "a (b [c attempts]) d",
            "a (b [c] attempts) d",
            "a (b [c])",
            "a (b [c]) d attempts",
        ],
    );
}

#[test]
fn a_bare_crate_is_told_from_a_path_and_a_key() {
    let bare = |text: &str| has_bare_crate(&text.parse().expect("tokens"));
    assert!(bare("retry_if = crate"));
    assert!(bare("clone = [crate]"));
    assert!(!bare("retry_if = crate::is_transient"));
    assert!(!bare("crate = \"my_runtime\""));
}
