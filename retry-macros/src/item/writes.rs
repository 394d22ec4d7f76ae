//! A write through a `&mut` parameter the body certainly makes: refused
//! under a hedge, whose attempts run side by side.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use syn::{FnArg, Pat, ReceiverKind};

use super::FnItem;
use crate::diag::SpanRange;

impl FnItem {
    /// A write the body certainly makes through one of its `&mut`
    /// parameters (`&mut self`, `self: &mut Self`, `name: &mut T`): the
    /// parameter's name and the place written. A hedged call cannot
    /// make it: its attempts run side by side in one closure that borrows
    /// the arguments, so they can only read through them.
    ///
    /// Only what the tokens show for certain: `&mut` of the parameter or
    /// a place in it (`&mut self.buf`, `&mut *out`), and an assignment to
    /// such a place (`self.n += 1`, `*out = x`, `out.items[0] = x`). A
    /// method call that takes `&mut self` is not seen (rustc then reports
    /// the closure, at the `hedge` key), nor, in an `unsafe` block, a
    /// dereference of a field (`*self.ptr = x`, `&mut *out.ptr`), which
    /// may be a raw pointer's: a write through it only reads the
    /// argument. Nothing is reported when the body
    /// has items of its own (an inner `fn` has its own `self`), nor for a
    /// name the body may bind again (after `let`, `for`, `ref`, `mut`, in
    /// a closure's or a pattern's place), where a write may be to the new
    /// binding.
    pub fn write_through_mut_param(&self) -> Option<(String, SpanRange)> {
        let names: Vec<String> = self
            .sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                FnArg::Receiver(r) => match &r.kind {
                    ReceiverKind::Reference(_, _, Some(_)) => Some("self".to_string()),
                    ReceiverKind::Typed(_, ty) if is_mut_reference(ty) => Some("self".to_string()),
                    _ => None,
                },
                FnArg::Typed(t) => match &*t.pat {
                    Pat::Ident(p)
                        if p.by_ref.is_none() && p.subpat.is_none() && is_mut_reference(&t.ty) =>
                    {
                        Some(p.ident.to_string())
                    }
                    _ => None,
                },
            })
            .collect();
        if names.is_empty() || has_items(self.body.clone()) {
            return None;
        }
        let names: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| *n == "self" || !may_bind(self.body.clone(), n))
            .collect();
        find_write(self.body.clone(), &names, false)
    }
}

/// Is `ty` `&mut T` (in parentheses or not)?
fn is_mut_reference(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => r.mutability.is_some(),
        syn::Type::Group(g) => is_mut_reference(&g.elem),
        syn::Type::Paren(p) => is_mut_reference(&p.elem),
        _ => false,
    }
}

/// Do `tokens` (nested groups included) define items of their own (`fn`,
/// `impl`, `trait`, `mod`, `macro_rules!`), whose `self` and names are not
/// the function's?
fn has_items(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => matches!(
            i.to_string().as_str(),
            "fn" | "impl" | "trait" | "mod" | "macro_rules"
        ),
        TokenTree::Group(g) => has_items(g.stream()),
        _ => false,
    })
}

/// May `tokens` bind `name` again? Conservatively: it comes after `let`,
/// `for`, `ref`, `mut` (not `&mut`), `|` or `@`, or before `@`, `:`, `|`,
/// `=>`, `in`, or before `,` or last in its group (`Some(name)`) unless
/// borrowed or dereferenced there, as a pattern's names do (and as a
/// call's arguments do too, which only makes the check that uses it say
/// less).
fn may_bind(tokens: TokenStream, name: &str) -> bool {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let punct =
        |t: Option<&TokenTree>, c: char| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c);
    let ident = |t: Option<&TokenTree>, words: &[&str]| matches!(t, Some(TokenTree::Ident(i)) if words.contains(&i.to_string().as_str()));
    tokens.iter().enumerate().any(|(i, tt)| match tt {
        TokenTree::Group(g) => may_bind(g.stream(), name),
        TokenTree::Ident(id) if id == name => {
            let before = i.checked_sub(1).and_then(|b| tokens.get(b));
            let before2 = i.checked_sub(2).and_then(|b| tokens.get(b));
            let after = tokens.get(i + 1);
            let after2 = tokens.get(i + 2);
            // (`&mut name`, `*name` are expressions at the end of a
            // group or before a `,`: `f(&mut *name, 1)`)
            let borrowed = punct(before, '*') || (ident(before, &["mut"]) && punct(before2, '&'));
            ident(before, &["let", "for", "ref"])
                || (ident(before, &["mut"]) && !punct(before2, '&'))
                || punct(before, '|')
                || punct(before, '@')
                || (after.is_none() && !borrowed)
                || punct(after, '@')
                || (punct(after, ':') && !punct(after2, ':'))
                || punct(after, '|')
                || (punct(after, ',') && !borrowed)
                || (punct(after, '=') && punct(after2, '>'))
                || ident(after, &["in"])
        }
        _ => false,
    })
}

/// The first write (see [`FnItem::write_through_mut_param`]) in `tokens`
/// (nested groups included) through one of `names`: the name, and the
/// place written (with its `&mut` or `*`s). `in_unsafe`: `tokens` are in
/// an `unsafe` block.
fn find_write(tokens: TokenStream, names: &[&str], in_unsafe: bool) -> Option<(String, SpanRange)> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let punct_at = |i: usize| match tokens.get(i) {
        Some(TokenTree::Punct(p)) => Some(p),
        _ => None,
    };
    for (i, tt) in tokens.iter().enumerate() {
        let name = match tt {
            TokenTree::Group(g) => {
                let unsafe_block = g.delimiter() == Delimiter::Brace
                    && matches!(i.checked_sub(1).and_then(|b| tokens.get(b)), Some(TokenTree::Ident(u)) if u == "unsafe");
                if let Some(found) = find_write(g.stream(), names, in_unsafe || unsafe_block) {
                    return Some(found);
                }
                continue;
            }
            TokenTree::Ident(id) => id.to_string(),
            _ => continue,
        };
        if !names.contains(&name.as_str()) {
            continue;
        }
        // the start of a place, not a field or path segment of that name
        let before = i.checked_sub(1).and_then(punct_at);
        if before.is_some_and(|p| p.as_char() == '.' || p.as_char() == ':') {
            continue;
        }
        // the place: the name, its fields (`.buf`, `.0`) and indexes
        // (`[i]`), not a method call's result
        let mut end = i + 1;
        loop {
            match (tokens.get(end), tokens.get(end + 1), tokens.get(end + 2)) {
                (
                    Some(TokenTree::Punct(dot)),
                    Some(TokenTree::Ident(_) | TokenTree::Literal(_)),
                    next,
                ) if dot.as_char() == '.'
                    && !matches!(next, Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis) =>
                {
                    end += 2;
                }
                (Some(TokenTree::Group(g)), _, _) if g.delimiter() == Delimiter::Bracket => {
                    end += 1;
                }
                _ => break,
            }
        }
        let last = tokens
            .get(end - 1)
            .map_or_else(|| tt.span(), TokenTree::span);
        // `*name`: back over the `*`s
        let mut start = i;
        while start
            .checked_sub(1)
            .and_then(punct_at)
            .is_some_and(|p| p.as_char() == '*')
        {
            start -= 1;
        }
        let first = tokens.get(start).map_or_else(|| tt.span(), TokenTree::span);
        // `*name.ptr` in `unsafe`: maybe a raw pointer's place, not the
        // argument's
        if in_unsafe && start < i && end > i + 1 {
            continue;
        }
        // `&mut name`, `&mut *name`, `&mut name.buf`, the place ending the
        // operand: not `&mut name.buf.iter()`, `&mut *self.m.lock()?` or
        // `&mut self::make()`, a `&mut` of a temporary or a guard, which
        // reads the place only
        let ends_operand = match tokens.get(end) {
            Some(TokenTree::Punct(p)) => !matches!(p.as_char(), '.' | ':' | '?'),
            Some(TokenTree::Group(g)) => g.delimiter() != Delimiter::Parenthesis,
            _ => true,
        };
        let is_mut = matches!(start.checked_sub(1).and_then(|b| tokens.get(b)), Some(TokenTree::Ident(m)) if m == "mut");
        if let (true, true, Some(amp)) = (
            is_mut,
            ends_operand,
            start.checked_sub(2).and_then(punct_at),
        ) {
            if amp.as_char() == '&' {
                return Some((name, SpanRange::new(amp.span(), last)));
            }
        }
        // assigned to: `name.n += 1`, `*name = x` (not `name = ..`, which
        // binds the parameter to another reference)
        if (end > i + 1 || start < i) && assigns(tokens.get(end..).unwrap_or_default()) {
            return Some((name, SpanRange::new(first, last)));
        }
    }
    None
}

/// Do `tokens` start with an assignment operator: `=` (not `==` or `=>`),
/// or `+=`, `-=`, `*=`, `/=`, `%=`, `^=`, `&=`, `|=`, `<<=`, `>>=`?
fn assigns(tokens: &[TokenTree]) -> bool {
    let p = |i: usize| match tokens.get(i) {
        Some(TokenTree::Punct(p)) => Some((p.as_char(), p.spacing())),
        _ => None,
    };
    match (p(0), p(1), p(2)) {
        (Some(('=', Spacing::Alone)), _, _) => true,
        (Some((c, Spacing::Joint)), Some(('=', Spacing::Alone)), _) => "+-*/%^&|".contains(c),
        (Some(('<', Spacing::Joint)), Some(('<', Spacing::Joint)), Some(('=', _)))
        | (Some(('>', Spacing::Joint)), Some(('>', Spacing::Joint)), Some(('=', _))) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parameter [`FnItem::write_through_mut_param`] finds written
    /// through in `body` under the signature `sig` (where the write is, is
    /// a ui test's: these tokens' spans are all the same).
    fn write(sig: &str, body: &str) -> Option<String> {
        let item: FnItem = syn::parse_str(&format!("{sig} {{ {body} }}")).unwrap();
        item.write_through_mut_param().map(|(name, _)| name)
    }

    #[test]
    fn finds_a_certain_write_through_a_mut_parameter() {
        let method = "async fn f(&mut self, id: u32) -> Result<u32, E>";
        let typed = "async fn f(self: &mut Self) -> Result<u32, E>";
        let param = "async fn f(out: &mut Vec<u8>, n: u32) -> Result<u32, E>";
        let mut_param = "async fn f(mut out: &mut Vec<u8>, n: u32) -> Result<u32, E>";
        for (sig, body, name) in [
            (method, "call(&mut self.0).await", "self"),
            (method, "self.n += 1; Ok(self.n)", "self"),
            (typed, "self.items[0] = 1; Ok(1)", "self"),
            (method, "*self = Self::new(); Ok(1)", "self"),
            (method, "let x = { self.a.b <<= 2; 1 }; Ok(x)", "self"),
            (param, "fill(&mut *out).await", "out"),
            (param, "out.len = n; Ok(n)", "out"),
            (param, "*out = vec![1]; Ok(n)", "out"),
            // `as` binds looser than `&mut`: the place is borrowed mutably
            (method, "let p = &mut self.n as *mut u32; Ok(1)", "self"),
            // a field assigned a call's result, after a statement
            (method, "log(id); self.n = next(id); Ok(1)", "self"),
            // a field of an indexed element
            (param, "out.parts[0].len = n; Ok(n)", "out"),
            // through a field (a `Box` or a `&mut`), outside `unsafe`
            (method, "*self.total = 0; Ok(1)", "self"),
            (method, "unsafe { *self.p = 1; self.n = 2 } Ok(1)", "self"),
            (method, "if id > 0 { *self.total = 0 } Ok(1)", "self"),
            (param, "unsafe { *out = Vec::new() } Ok(n)", "out"),
        ] {
            assert_eq!(write(sig, body).as_deref(), Some(name), "{body}");
        }
        for (sig, body) in [
            // reads, and comparisons
            (method, "Ok(self.n + id)"),
            (
                method,
                "if self.n == id || self.n <= 3 { Ok(1) } else { Ok(self.n) }",
            ),
            // a method call (whether it takes `&mut self` is not seen)
            (param, "out.push(1); Ok(n)"),
            (method, "self.get().n = 1; Ok(1)"),
            // through a field in `unsafe`, which may be a raw pointer's
            // (the place itself is only read)
            (method, "unsafe { *self.p = 1 }; Ok(1)"),
            (param, "let p = unsafe { &mut *out.ptr }; Ok(n)"),
            // a range from a field (`..=` is not an assignment)
            (param, "let r = out.len..=n; Ok(n)"),
            // a field of something else, of the same name
            (param, "other.out.len = 1; Ok(n)"),
            // `&self` is read only
            (
                "async fn f(&self) -> Result<u32, E>",
                "call(&mut self.0).await",
            ),
            // the parameter pointed elsewhere: a change of its own binding
            (mut_param, "out = other(); Ok(n)"),
            // the name bound again: the write may be to the new binding
            (param, "let mut out = Vec::new(); fill(&mut out).await"),
            (param, "for out in list { out.len = 1; } Ok(n)"),
            (param, "items.iter_mut().for_each(|out| out.len = 1); Ok(n)"),
            // an item of the body's own, with its own `self`
            (
                method,
                "impl Counter { fn bump(&mut self) { self.n += 1; } } Ok(1)",
            ),
            // no `&mut` parameter
            (
                "async fn f(out: Vec<u8>) -> Result<u32, E>",
                "out.len = 1; Ok(1)",
            ),
            // a `&mut` of a temporary or a guard made from the place: a read
            (method, "fill(&mut *self.m.lock().unwrap()).await"),
            (method, "fill(&mut self.m.lock().unwrap()).await"),
            (method, "read_one(&mut self.buf.as_slice())"),
            (method, "fill(&mut self.buf.clone()).await"),
            (method, "count(&mut self.buf.iter().copied())"),
            (method, "fill(&mut self::new_buf()).await"),
            (method, "fill(&mut self.try_buf()?).await"),
            (param, "read_one(&mut out.as_slice())"),
            (param, "count(&mut out.iter())"),
        ] {
            assert_eq!(write(sig, body), None, "{body}");
        }
    }
}
