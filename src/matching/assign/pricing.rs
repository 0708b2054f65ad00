//! Pricing for the network simplex ([`super::simplex`]), on one core or
//! two.
//!
//! Block search spends most of a large solve loading the two end
//! potentials of each priced arc: the potentials of millions of nodes do
//! not fit in the cache, so nearly every load misses. One core keeps only
//! so many misses in flight; a second core pricing the other half of the
//! same block keeps as many again. So a large solve splits each block into
//! chunks that the solving thread and one [`Helper`] thread claim in turn,
//! and takes the most violating arc of the block, the first in scan order
//! on a tie: the same arc a single thread takes. The pivots, and so the
//! plan, the certificate and the pivot count, do not depend on which
//! thread priced what.
//!
//! A pivot takes a few microseconds and a block a few more, far too short
//! to hand work to a thread pool and wait for it to wake. The helper spins
//! on a word that numbers the blocks and parks when none comes for a while
//! (between rounds, or while the tree is updated after a long pivot).
//!
//! Pricing reads the arcs, their states and the potentials while the pivot
//! writes states and potentials between pricings: states and potentials
//! are atomics, read and written `Relaxed` (plain loads and stores on
//! x86-64 and aarch64), and the block word orders them. The solver writes
//! only while no block is being priced: it posts a block (a `Release`
//! store of the word) after its last write, and uses the result only after
//! every chunk is counted done (an `Acquire` load of the count that each
//! chunk's `Release` increment pairs with).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicI8, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc as Shared;
use std::thread::JoinHandle;

use crossbeam_utils::{Backoff, CachePadded};

const NONE: usize = usize::MAX;
/// Most chunks a block is cut into: enough for the two threads to even out
/// when one starts late, few enough that claiming them stays cheap.
const MAX_CHUNKS: usize = 8;
/// Spins of an idle helper before it parks (tens of microseconds).
const SPINS: u32 = 1 << 14;

/// An arc's cost and ends, in one 16-byte slot: pricing reads all three.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ArcEnds {
    pub cost: i64,
    pub source: u32,
    pub target: u32,
}

/// What pricing reads: the arcs, their states (at the upper bound, in the
/// tree, at zero: -1, 0, 1) and the node potentials.
#[derive(Debug)]
pub(super) struct Priced {
    pub arcs: Vec<ArcEnds>,
    pub state: Vec<AtomicI8>,
    pub pi: Vec<AtomicI64>,
}

impl Priced {
    pub fn new(arcs: usize, nodes: usize, state: i8) -> Self {
        Priced {
            arcs: vec![ArcEnds::default(); arcs],
            state: (0..arcs).map(|_| AtomicI8::new(state)).collect(),
            pi: (0..nodes).map(|_| AtomicI64::new(0)).collect(),
        }
    }

    #[inline]
    pub fn pi(&self, u: usize) -> i64 {
        self.pi[u].load(Ordering::Relaxed)
    }

    #[inline]
    pub fn set_pi(&self, u: usize, value: i64) {
        self.pi[u].store(value, Ordering::Relaxed);
    }

    #[inline]
    pub fn state(&self, a: usize) -> i8 {
        self.state[a].load(Ordering::Relaxed)
    }

    #[inline]
    pub fn set_state(&self, a: usize, value: i8) {
        self.state[a].store(value, Ordering::Relaxed);
    }

    /// Arc `a`'s reduced cost times its state: negative when pushing flow
    /// into it (from its bound) would lower the cost.
    #[inline]
    pub fn reduced(&self, a: usize) -> i64 {
        let arc = self.arcs[a];
        i64::from(self.state(a))
            * (arc.cost + self.pi(arc.source as usize) - self.pi(arc.target as usize))
    }

    /// The most negative of [`Priced::reduced`] over `len` arcs from
    /// `from`, wrapping at `active`, and its arc: the first in scan order
    /// on a tie; `(0, NONE)` when none is negative.
    #[inline]
    pub fn best_from(&self, from: usize, len: usize, active: usize) -> (i64, usize) {
        let first = len.min(active - from);
        let (mut best, mut at) = self.best_in(from, from + first);
        if first < len {
            let (b, a) = self.best_in(0, len - first);
            if b < best {
                (best, at) = (b, a);
            }
        }
        (best, at)
    }

    #[inline]
    fn best_in(&self, from: usize, to: usize) -> (i64, usize) {
        let (mut best, mut at) = (0, NONE);
        for a in from..to {
            let c = self.reduced(a);
            if c < best {
                (best, at) = (c, a);
            }
        }
        (best, at)
    }
}

/// When to price on two threads, and how finely to share a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Split {
    /// Blocks at least this long are shared; shorter ones cost less than
    /// handing half over. `usize::MAX`: never.
    pub from_block: usize,
    /// Fewest arcs in a chunk: below 64, claiming one costs about as much
    /// as pricing it. Tests cut finer to race the threads more.
    pub min_chunk: usize,
}

impl Split {
    /// Blocks of 256 arcs and more are shared, when there is a second
    /// core. Measured in docs/benchmarks.md.
    pub fn for_this_machine() -> Split {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Split {
            from_block: if cores >= 2 { 256 } else { usize::MAX },
            min_chunk: 64,
        }
    }

    /// One thread only.
    #[cfg(test)]
    pub const NEVER: Split = Split {
        from_block: usize::MAX,
        min_chunk: 64,
    };
}

/// A thread that prices chunks of each block beside the solving thread.
/// Dropping it stops and joins the thread.
pub(super) struct Helper {
    board: Shared<Board>,
    thread: Option<JoinHandle<()>>,
    min_chunk: usize,
}

/// The block being priced, shared by the two threads.
struct Board {
    priced: Shared<Priced>,
    /// The block's number (high half) and the next unclaimed chunk (low
    /// half): one word, so a claim names the block it is for.
    word: CachePadded<AtomicU64>,
    /// Chunks priced of the current block.
    done: CachePadded<AtomicUsize>,
    /// The block: its first arc, its length, the priced range's length
    /// (where it wraps), and its chunks and their length.
    from: AtomicUsize,
    len: AtomicUsize,
    active: AtomicUsize,
    chunks: AtomicUsize,
    chunk_len: AtomicUsize,
    /// Per chunk: its most negative reduced cost and that arc.
    best: [AtomicI64; MAX_CHUNKS],
    at: [AtomicUsize; MAX_CHUNKS],
    parked: AtomicBool,
    stop: AtomicBool,
}

impl Board {
    /// Claims and prices chunks of block `block` until none is left.
    fn work(&self, block: u32) {
        loop {
            let word = self.word.load(Ordering::Acquire);
            let chunk = (word & u64::from(u32::MAX)) as usize;
            if (word >> 32) as u32 != block || chunk >= self.chunks.load(Ordering::Relaxed) {
                return;
            }
            if self
                .word
                .compare_exchange_weak(word, word + 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
            {
                continue;
            }
            // The claim holds the block: it cannot move on before this
            // chunk is counted done, so its figures are this block's.
            let (from, len, active, chunk_len) = (
                self.from.load(Ordering::Relaxed),
                self.len.load(Ordering::Relaxed),
                self.active.load(Ordering::Relaxed),
                self.chunk_len.load(Ordering::Relaxed),
            );
            let start = chunk * chunk_len;
            let (best, at) =
                self.priced
                    .best_from((from + start) % active, chunk_len.min(len - start), active);
            self.best[chunk].store(best, Ordering::Relaxed);
            self.at[chunk].store(at, Ordering::Relaxed);
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

impl Helper {
    /// Starts the helper thread over `priced`, for blocks cut into chunks
    /// of at least `min_chunk` arcs.
    pub fn start(priced: Shared<Priced>, min_chunk: usize) -> std::io::Result<Helper> {
        let board = Shared::new(Board {
            priced,
            word: CachePadded::new(AtomicU64::new(0)),
            done: CachePadded::new(AtomicUsize::new(0)),
            from: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            active: AtomicUsize::new(1),
            chunks: AtomicUsize::new(0),
            chunk_len: AtomicUsize::new(1),
            best: std::array::from_fn(|_| AtomicI64::new(0)),
            at: std::array::from_fn(|_| AtomicUsize::new(NONE)),
            parked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let theirs = Shared::clone(&board);
        let thread = std::thread::Builder::new()
            .name("simplex-pricing".into())
            .spawn(move || help(&theirs))?;
        Ok(Helper {
            board,
            thread: Some(thread),
            min_chunk: min_chunk.max(1),
        })
    }

    /// [`Priced::best_from`] for one block, priced by both threads.
    pub fn best_from(&self, from: usize, len: usize, active: usize) -> (i64, usize) {
        let b = &*self.board;
        let chunks = len.div_ceil(self.min_chunk).clamp(1, MAX_CHUNKS);
        b.from.store(from, Ordering::Relaxed);
        b.len.store(len, Ordering::Relaxed);
        b.active.store(active, Ordering::Relaxed);
        b.chunks.store(chunks, Ordering::Relaxed);
        b.chunk_len.store(len.div_ceil(chunks), Ordering::Relaxed);
        b.done.store(0, Ordering::Relaxed);
        let block = ((b.word.load(Ordering::Relaxed) >> 32) as u32).wrapping_add(1);
        // SeqCst with the helper's `parked`: either it sees this block or
        // this sees it parked and wakes it.
        b.word.store(u64::from(block) << 32, Ordering::SeqCst);
        if b.parked.load(Ordering::SeqCst) {
            if let Some(t) = &self.thread {
                t.thread().unpark();
            }
        }
        b.work(block);
        // Chunks are few and short: wait for the helper's last one.
        let backoff = Backoff::new();
        while b.done.load(Ordering::Acquire) < chunks {
            backoff.snooze();
        }
        let (mut best, mut at) = (0, NONE);
        for c in 0..chunks {
            let v = b.best[c].load(Ordering::Relaxed);
            if v < best {
                (best, at) = (v, b.at[c].load(Ordering::Relaxed));
            }
        }
        (best, at)
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.board.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            // A panic in the helper would be a bug in the code above; the
            // solver's own result does not depend on it.
            let _ = t.join();
        }
    }
}

/// The helper's loop: wait for a new block, price chunks of it.
fn help(b: &Board) {
    let mut seen = 0u32;
    loop {
        let mut spins = 0u32;
        let block = loop {
            if b.stop.load(Ordering::Relaxed) {
                return;
            }
            let block = (b.word.load(Ordering::Acquire) >> 32) as u32;
            if block != seen {
                break block;
            }
            spins += 1;
            if spins < SPINS {
                std::hint::spin_loop();
            } else {
                b.parked.store(true, Ordering::SeqCst);
                if (b.word.load(Ordering::SeqCst) >> 32) as u32 == seen
                    && !b.stop.load(Ordering::SeqCst)
                {
                    std::thread::park();
                }
                b.parked.store(false, Ordering::SeqCst);
                spins = 0;
            }
        };
        seen = block;
        b.work(block);
    }
}
