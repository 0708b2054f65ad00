//! Block pricing for the network simplex, on one thread or split across
//! two.
//!
//! Pricing (finding the arc that enters the basis) reads every arc of a
//! block with the potentials of both its ends, and at scale 80 it was
//! about three fifths of the solve. It only reads; a pivot then writes.
//! So a second thread can price the second half of each block while the
//! solving thread prices the first, and the two answers combine into
//! exactly the one a single thread finds: the most violating arc of the
//! block, the first in scan order among equals. The pivots, and with them
//! the plan, the potentials and every figure, are the same as on one
//! thread; the tests compare the two on random instances.
//!
//! The second thread waits for work spinning (yielding its core to other
//! runnable threads between checks) rather than sleeping: a block takes
//! microseconds, far less than waking a parked thread. It lives only
//! while a solve pivots ([`with_pricer`]).
//!
//! The arrays pricing reads move out of the solver into a shared
//! [`Arrays`] for one search ([`Simplex::find_entering`]) and back when it
//! ends: both threads read them, nobody writes them meanwhile, and no
//! `unsafe` is needed. Moving them costs a few pointers per search.
//!
//! [`Simplex::find_entering`]: super::simplex

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::simplex::Arc;

/// Below this many arcs per block the hand-off costs more than the half
/// block it saves, so the solving thread prices the block alone.
pub(super) const MIN_SPLIT: usize = 256;

/// The reduced cost of arc `a` as pricing sees it: negative when entering
/// the basis would improve the flow (an arc at its lower bound whose
/// reduced cost is negative, or at its upper bound with a positive one);
/// 0 for tree arcs.
#[inline(always)]
pub(super) fn violation(arcs: &[Arc], state: &[i8], pi: &[i64], a: usize) -> i64 {
    let arc = arcs[a];
    i64::from(state[a]) * (arc.cost + pi[arc.source as usize] - pi[arc.target as usize])
}

/// The most violating arc among positions `from..from + count` of the
/// ring of the first `len` arcs (wrapping past the end), the first in
/// scan order among equals: `(violation, arc)`, or `(0, usize::MAX)` when
/// none violates.
pub(super) fn best_in(
    arcs: &[Arc],
    state: &[i8],
    pi: &[i64],
    from: usize,
    count: usize,
    len: usize,
) -> (i64, usize) {
    let first = count.min(len - from);
    let best = best_of(arcs, state, pi, from..from + first, (0, usize::MAX));
    best_of(arcs, state, pi, 0..count - first, best)
}

/// [`best_in`] over one stretch without a wrap, after `best`.
#[inline(always)]
fn best_of(
    arcs: &[Arc],
    state: &[i8],
    pi: &[i64],
    range: std::ops::Range<usize>,
    mut best: (i64, usize),
) -> (i64, usize) {
    for a in range {
        let c = violation(arcs, state, pi, a);
        if c < best.0 {
            best = (c, a);
        }
    }
    best
}

/// What pricing reads, shared by both threads during one search.
pub(super) struct Arrays {
    pub(super) arcs: Vec<Arc>,
    pub(super) state: Vec<i8>,
    pub(super) pi: Vec<i64>,
}

/// One half block for the helper.
struct Job {
    arrays: std::sync::Arc<Arrays>,
    from: usize,
    count: usize,
    len: usize,
}

/// What the two threads share.
struct Shared {
    job: Mutex<Option<Job>>,
    /// Number of the last job posted, and of the last one finished.
    posted: AtomicU64,
    done: AtomicU64,
    /// The last finished job's answer (see [`best_in`]), written before
    /// `done`.
    best: AtomicI64,
    arc: AtomicUsize,
    quit: AtomicBool,
}

/// The solving thread's handle on the helper.
pub(super) struct Pricer<'s> {
    shared: &'s Shared,
}

impl Pricer<'_> {
    /// Hands the helper positions `from..from + count` of the ring of the
    /// first `len` arcs of `arrays`; see [`best_in`]. Call [`Pricer::wait`]
    /// before the next start.
    pub(super) fn start(
        &self,
        arrays: &std::sync::Arc<Arrays>,
        from: usize,
        count: usize,
        len: usize,
    ) {
        let shared = self.shared;
        *shared.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(Job {
            arrays: arrays.clone(),
            from,
            count,
            len,
        });
        shared.posted.fetch_add(1, Ordering::Release);
    }

    /// The answer to the last job started, once the helper has let go of
    /// its arrays.
    pub(super) fn wait(&self) -> (i64, usize) {
        let shared = self.shared;
        let posted = shared.posted.load(Ordering::Relaxed);
        while shared.done.load(Ordering::Acquire) < posted {
            std::hint::spin_loop();
        }
        (
            shared.best.load(Ordering::Relaxed),
            shared.arc.load(Ordering::Relaxed),
        )
    }
}

/// The arrays back from a search, once every job on them has been waited
/// for.
pub(super) fn reclaim(arrays: std::sync::Arc<Arrays>) -> Arrays {
    std::sync::Arc::try_unwrap(arrays)
        .unwrap_or_else(|_| unreachable!("the helper let go of the arrays before its answer"))
}

impl Shared {
    /// The helper's loop: price each job posted until told to quit.
    fn serve(&self) {
        let mut seen = 0u64;
        let mut idle = 0u32;
        loop {
            let posted = self.posted.load(Ordering::Acquire);
            if posted == seen {
                if self.quit.load(Ordering::Acquire) {
                    return;
                }
                idle += 1;
                if idle < 64 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
                continue;
            }
            idle = 0;
            seen = posted;
            let job = self.job.lock().unwrap_or_else(|e| e.into_inner()).take();
            let Some(job) = job else { continue };
            let a = &*job.arrays;
            let (best, arc) = best_in(&a.arcs, &a.state, &a.pi, job.from, job.count, job.len);
            // Let go of the arrays before answering: the solving thread
            // takes them back as soon as it has the answer.
            drop(job);
            self.best.store(best, Ordering::Relaxed);
            self.arc.store(arc, Ordering::Relaxed);
            self.done.store(seen, Ordering::Release);
        }
    }
}

/// Tells the helper to quit when the solve ends, normally or by a panic.
struct Quit<'s>(&'s Shared);

impl Drop for Quit<'_> {
    fn drop(&mut self) {
        self.0.quit.store(true, Ordering::Release);
    }
}

/// Whether a solve over `active` priced arcs splits its pricing: when the
/// machine has a second core and a block is long enough to be worth it.
pub(super) fn worth_splitting(block: usize) -> bool {
    block >= 2 * MIN_SPLIT && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// Runs `f` with a helper thread pricing half of each block when `split`
/// (see [`worth_splitting`]), or with none.
pub(super) fn with_pricer<R>(split: bool, f: impl FnOnce(Option<&Pricer<'_>>) -> R) -> R {
    if !split {
        return f(None);
    }
    let shared = Shared {
        job: Mutex::new(None),
        best: AtomicI64::new(0),
        arc: AtomicUsize::new(usize::MAX),
        posted: AtomicU64::new(0),
        done: AtomicU64::new(0),
        quit: AtomicBool::new(false),
    };
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("simplex-pricer".into())
            .spawn_scoped(scope, || shared.serve())
            .expect("spawn the pricing thread");
        let _quit = Quit(&shared);
        f(Some(&Pricer { shared: &shared }))
    })
}
