//! LazyFS's faults fifo. A power cut is `lazyfs::clear-cache`: LazyFS drops
//! every byte that was written but not fsynced, as a disk loses its cache
//! when the power goes. LazyFS says it is done on its completion fifo
//! (`fifo_path_completed` in its config) with `finished::clear-cache`.

use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::net::unix::pipe;

/// The command, as LazyFS reads it (it drops the last byte, the newline).
const CLEAR: &[u8] = b"lazyfs::clear-cache\n";
/// LazyFS's answer once the cache is cleared.
const CLEARED: &str = "finished::clear-cache";
/// How long LazyFS may take to clear its cache.
const CLEAR_DEADLINE: Duration = Duration::from_secs(60);
/// What the canary files hold.
const CANARY: &[u8] = b"power-cut canary: this text is only here until the next clear-cache\n";

/// The two fifos of one LazyFS mount.
pub struct Faults {
    fifo: PathBuf,
    /// Opened for reading and writing: the open never blocks, and LazyFS,
    /// whose fault thread waits for a reader before it takes commands, can
    /// open its end whenever it starts.
    done: pipe::Receiver,
    /// Bytes read from `done` that do not end a line yet.
    partial: Vec<u8>,
}

impl Faults {
    /// Opens the completion fifo; `fifo` is opened for each command.
    pub fn open(fifo: &Path, done: &Path) -> Faults {
        let done = pipe::OpenOptions::new()
            .read_write(true)
            .open_receiver(done)
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open LazyFS's completion fifo {}: {e}",
                    done.display()
                )
            });
        Faults {
            fifo: fifo.to_path_buf(),
            done,
            partial: Vec::new(),
        }
    }

    /// Cuts the power: drops every byte not fsynced, and returns once LazyFS
    /// says it is done.
    pub async fn clear_cache(&mut self) -> Duration {
        let started = Instant::now();
        self.drain();
        let sender = pipe::OpenOptions::new()
            .open_sender(&self.fifo)
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open LazyFS's faults fifo {}: {e} (is LazyFS running with it?)",
                    self.fifo.display()
                )
            });
        let mut written = 0;
        while written < CLEAR.len() {
            sender.writable().await.expect("faults fifo writable");
            match sender.try_write(&CLEAR[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("writing to {}: {e}", self.fifo.display()),
            }
        }
        drop(sender);
        if tokio::time::timeout(CLEAR_DEADLINE, self.answer())
            .await
            .is_err()
        {
            panic!(
                "LazyFS did not answer {CLEARED:?} within {CLEAR_DEADLINE:?}: is \
                 fifo_path_completed set to the completion fifo?"
            );
        }
        started.elapsed()
    }

    /// Proves that a power cut here is real: a file written without fsync
    /// loses its bytes, a file fsynced keeps them. Otherwise `dir` is not
    /// on the LazyFS mount whose fifo this is, and the test would prove
    /// nothing.
    pub async fn canary(&mut self, dir: &Path) {
        let (unsynced, synced) = (dir.join("canary-unsynced"), dir.join("canary-synced"));
        std::fs::write(&unsynced, CANARY).expect("write the unsynced canary");
        let mut file = std::fs::File::create(&synced).expect("create the synced canary");
        file.write_all(CANARY).expect("write the synced canary");
        file.sync_all().expect("fsync the synced canary");
        drop(file);
        self.clear_cache().await;
        let kept = std::fs::read(&synced).expect("read the synced canary");
        assert_eq!(
            kept,
            CANARY,
            "an fsynced file lost its bytes in a clear-cache: is {} on LazyFS?",
            dir.display()
        );
        let left = std::fs::read(&unsynced).expect("read the unsynced canary");
        assert!(
            left.len() < CANARY.len(),
            "a file written without fsync kept its bytes through a clear-cache: {} is not \
             on the LazyFS mount of {}",
            dir.display(),
            self.fifo.display()
        );
        for f in [unsynced, synced] {
            std::fs::remove_file(&f).expect("remove a canary");
        }
    }

    /// Reads until LazyFS's answer to a clear-cache.
    async fn answer(&mut self) {
        loop {
            while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.partial.drain(..=end).collect();
                if String::from_utf8_lossy(&line).trim() == CLEARED {
                    return;
                }
            }
            self.done
                .readable()
                .await
                .expect("completion fifo readable");
            self.read_some();
        }
    }

    /// Forgets answers left from before (none, unless a run was cut short).
    fn drain(&mut self) {
        while self.read_some() > 0 {}
        self.partial.clear();
    }

    /// Appends what can be read without waiting; returns how much.
    fn read_some(&mut self) -> usize {
        let mut buf = [0u8; 256];
        match self.done.try_read(&mut buf) {
            Ok(n) => {
                self.partial.extend_from_slice(&buf[..n]);
                n
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
            Err(e) => panic!("reading LazyFS's completion fifo: {e}"),
        }
    }
}
