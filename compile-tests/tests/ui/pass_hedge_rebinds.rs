// Hedged attempts run side by side and share the arguments, so a body that
// changes what a `&mut` argument points at is refused
// (fail_hedge_changes_mut_argument.rs). A body that binds the argument's
// name again and changes the new binding leaves the argument alone, and
// compiles: after `let mut`, in `Some(name)`, `name @ pattern`, a match
// arm's `name =>`, a closure's `(name, i)`, `i, name: T` and `i, name`
// parameters. So does one that takes a `&mut` of what a call through the
// argument returns (a read of the argument), one with an item of its own,
// inside a block, whose `self` is the item's, and one that writes through
// a raw pointer a field of the argument holds (in `unsafe`: the field is
// only read).
#![deny(warnings)]

use std::io;

use retry_runtime::retry;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Local {
    pub n: u32,
}

#[retry(attempts = 3, hedge = "10ms")]
pub async fn let_mut(out: &mut Local) -> io::Result<u32> {
    let mut out = *out;
    out.n += 1;
    Ok(out.n)
}

#[retry(attempts = 3, hedge = "10ms")]
pub async fn if_let(out: &mut Local) -> io::Result<u32> {
    let mut copy = Some(*out);
    if let Some(out) = copy.as_mut() {
        out.n += 1;
    }
    Ok(copy.map_or(0, |c| c.n))
}

#[retry(attempts = 3, hedge = "10ms")]
pub async fn at_pattern(out: &mut Local) -> io::Result<u32> {
    let mut copy = *out;
    match &mut copy {
        out @ Local { n: 0 } => out.n = 1,
        _ => {}
    }
    Ok(copy.n)
}

#[retry(attempts = 3, hedge = "10ms")]
pub async fn arm(out: &mut Local) -> io::Result<u32> {
    let mut copy = *out;
    match &mut copy {
        out => out.n += 1,
    }
    Ok(copy.n)
}

#[retry(attempts = 3, hedge = "10ms")]
pub async fn closure_pair(out: &mut Local) -> io::Result<u32> {
    let mut copies = [*out; 2];
    copies.iter_mut().zip(1..).for_each(|(out, i)| {
        out.n += i;
    });
    Ok(copies[0].n + copies[1].n)
}

#[retry(attempts = 3, hedge = "10ms")]
pub async fn closure_typed(out: &mut Local) -> io::Result<u32> {
    let bump = |i: u32, out: &mut Local| {
        out.n += i;
    };
    let mut copy = *out;
    bump(2, &mut copy);
    Ok(copy.n)
}

#[retry(attempts = 3, hedge = "10ms")]
pub async fn closure_untyped(out: &mut Local) -> io::Result<u32> {
    let mut copies = [*out; 3];
    let count = copies.iter_mut().fold(0, |i, out| {
        out.n += i;
        i + 1
    });
    Ok(count + copies[2].n)
}

#[retry(attempts = 3, hedge = "10ms")]
pub async fn call_result<F: Fn() -> Vec<u8>>(out: &mut F) -> io::Result<usize> {
    let made = &mut out();
    made.push(1);
    Ok(made.len())
}

pub struct Counter(pub u32);

impl Counter {
    #[retry(attempts = 3, hedge = "10ms")]
    pub async fn nested_item(&mut self) -> io::Result<u32> {
        let n = {
            struct Tally(u32);
            impl Tally {
                fn bump(&mut self) {
                    self.0 += 1;
                }
            }
            let mut tally = Tally(self.0);
            tally.bump();
            tally.0
        };
        Ok(n)
    }
}

pub struct Poker {
    pub p: *mut u32,
}

impl Poker {
    #[retry(attempts = 3, hedge = "10ms")]
    pub async fn poke(&mut self) -> io::Result<u32> {
        // SAFETY: `p` points at a `u32` that outlives the call (main's)
        unsafe { *self.p = 1 };
        Ok(1)
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut local = Local { n: 0 };
    assert_eq!(rt.block_on(let_mut(&mut local)).ok(), Some(1));
    assert_eq!(rt.block_on(if_let(&mut local)).ok(), Some(1));
    assert_eq!(rt.block_on(at_pattern(&mut local)).ok(), Some(1));
    assert_eq!(rt.block_on(arm(&mut local)).ok(), Some(1));
    assert_eq!(rt.block_on(closure_pair(&mut local)).ok(), Some(3));
    assert_eq!(rt.block_on(closure_typed(&mut local)).ok(), Some(2));
    assert_eq!(rt.block_on(closure_untyped(&mut local)).ok(), Some(5));
    // each body changed a binding of its own, not the argument
    assert_eq!(local, Local { n: 0 });
    let mut make = || vec![7u8];
    assert_eq!(rt.block_on(call_result(&mut make)).ok(), Some(2));
    let mut counter = Counter(4);
    assert_eq!(rt.block_on(counter.nested_item()).ok(), Some(5));
    assert_eq!(counter.0, 4);
    let mut poked = 0;
    let mut poker = Poker { p: &mut poked };
    assert_eq!(rt.block_on(poker.poke()).ok(), Some(1));
    assert_eq!(poked, 1);
}
