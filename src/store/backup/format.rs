//! The backup file's layout, written as one stream and read back whole.
//! Integers are big-endian.
//!
//! | part | bytes | what |
//! | --- | --- | --- |
//! | header | 44 | magic `JBBACKUP`, backup format (u32), store format (u32), created (i64, ms since the epoch), trees (u32), entries (u64), body bytes before compression (u64) |
//! | body | any | one zstd frame, with zstd's own content checksum, of the trees |
//! | trailer | 100 | magic `JBBKEND\n`, trees (u32), entries (u64), body bytes (u64), compressed bytes (u64), SHA-256 of the header and the uncompressed body, SHA-256 of every byte before the trailer |
//!
//! The body holds, per tree, `T`, the name's length (u32), the name and
//! its entry count (u64), then each entry as key length (u32), key, value
//! length (u32), value; and `E` after the last tree.
//!
//! The digests and the compressed length are known only once the body is
//! written, and the file goes out as a stream (over gRPC too), so they
//! close the file rather than open it. A reader finds the trailer at a
//! fixed distance from the end: a file cut anywhere has none and is
//! refused as truncated. Every byte before the trailer is covered by the
//! file digest, and the trailer's own fields are checked against what the
//! body held and against the file's length. The file digest is needed
//! besides the body digest: zstd ignores some bits of its frame header
//! (the "unused" bit), so a flipped bit there changes the file but not
//! what it decompresses to. The body digest guards what is restored, the
//! decompressed bytes themselves.

use std::io::{self, Read, Write};

use sha2::{Digest as _, Sha256};

/// The file's first bytes.
pub(super) const MAGIC: &[u8; 8] = b"JBBACKUP";
/// The trailer's first bytes.
const END_MAGIC: &[u8; 8] = b"JBBKEND\n";
/// The layout this build writes and reads.
pub(super) const BACKUP_FORMAT: u32 = 1;
pub(super) const HEADER_LEN: usize = 44;
pub(super) const TRAILER_LEN: usize = 100;
/// zstd's level: 3 (its default) compressed record-like data at about
/// 500 MB/s on this machine; higher levels cost far more time for little.
const LEVEL: i32 = 3;
/// Size of the blocks a tree's copy is kept in (see [`TreeCopy`]).
const BLOCK: usize = 4 << 20;

/// The header's fields past the magic and the backup format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub store_format: u32,
    pub created_at_ms: i64,
    pub trees: u32,
    pub entries: u64,
    pub body_bytes: u64,
}

/// The trailer's fields past its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Trailer {
    pub trees: u32,
    pub entries: u64,
    pub body_bytes: u64,
    pub compressed_bytes: u64,
    /// SHA-256 of the header and the uncompressed body.
    pub body_digest: [u8; 32],
    /// SHA-256 of the header and the compressed body.
    pub file_digest: [u8; 32],
}

/// One tree copied out of sled: its entries framed as in the body, in
/// blocks of about [`BLOCK`] bytes, so that a large tree is never moved
/// to a bigger buffer while writes wait.
pub(super) struct TreeCopy {
    pub name: Vec<u8>,
    pub entries: u64,
    blocks: Vec<Vec<u8>>,
}

impl TreeCopy {
    pub fn new(name: &[u8]) -> Self {
        Self {
            name: name.to_vec(),
            entries: 0,
            blocks: Vec::new(),
        }
    }

    pub fn push(&mut self, key: &[u8], value: &[u8]) {
        let need = 8 + key.len() + value.len();
        let block = match self.blocks.last_mut() {
            Some(b) if b.len() + need <= b.capacity() => b,
            _ => {
                self.blocks.push(Vec::with_capacity(BLOCK.max(need)));
                self.blocks.last_mut().expect("just pushed")
            }
        };
        block.extend_from_slice(&(key.len() as u32).to_be_bytes());
        block.extend_from_slice(key);
        block.extend_from_slice(&(value.len() as u32).to_be_bytes());
        block.extend_from_slice(value);
        self.entries += 1;
    }

    /// Bytes the tree takes in the body.
    pub fn body_bytes(&self) -> u64 {
        let frames: usize = self.blocks.iter().map(Vec::len).sum();
        (1 + 4 + self.name.len() + 8 + frames) as u64
    }
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(MAGIC);
        b[8..12].copy_from_slice(&BACKUP_FORMAT.to_be_bytes());
        b[12..16].copy_from_slice(&self.store_format.to_be_bytes());
        b[16..24].copy_from_slice(&self.created_at_ms.to_be_bytes());
        b[24..28].copy_from_slice(&self.trees.to_be_bytes());
        b[28..36].copy_from_slice(&self.entries.to_be_bytes());
        b[36..44].copy_from_slice(&self.body_bytes.to_be_bytes());
        b
    }

    /// The header of a file whose magic was checked.
    pub fn decode(b: &[u8; HEADER_LEN]) -> Result<Self, String> {
        let format = u32_at(b, 8);
        if format != BACKUP_FORMAT {
            return Err(format!(
                "made by a newer version of jobbridge, or damaged: backup format {format}, \
                 this build reads format {BACKUP_FORMAT}"
            ));
        }
        Ok(Self {
            store_format: u32_at(b, 12),
            created_at_ms: u64_at(b, 16) as i64,
            trees: u32_at(b, 24),
            entries: u64_at(b, 28),
            body_bytes: u64_at(b, 36),
        })
    }
}

impl Trailer {
    pub fn encode(&self) -> [u8; TRAILER_LEN] {
        let mut b = [0u8; TRAILER_LEN];
        b[0..8].copy_from_slice(END_MAGIC);
        b[8..12].copy_from_slice(&self.trees.to_be_bytes());
        b[12..20].copy_from_slice(&self.entries.to_be_bytes());
        b[20..28].copy_from_slice(&self.body_bytes.to_be_bytes());
        b[28..36].copy_from_slice(&self.compressed_bytes.to_be_bytes());
        b[36..68].copy_from_slice(&self.body_digest);
        b[68..100].copy_from_slice(&self.file_digest);
        b
    }

    pub fn decode(b: &[u8; TRAILER_LEN]) -> Result<Self, String> {
        if &b[0..8] != END_MAGIC {
            return Err("truncated: the file does not end with a backup's trailer \
                        (it was cut short, or its end is damaged)"
                .into());
        }
        Ok(Self {
            trees: u32_at(b, 8),
            entries: u64_at(b, 12),
            body_bytes: u64_at(b, 20),
            compressed_bytes: u64_at(b, 28),
            body_digest: b[36..68].try_into().expect("32 bytes"),
            file_digest: b[68..100].try_into().expect("32 bytes"),
        })
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Writes the file: header, compressed body, trailer. Returns the file's
/// length.
pub(super) fn write(out: impl Write, header: Header, trees: &[TreeCopy]) -> io::Result<u64> {
    let head = header.encode();
    let mut out = Hashing::new(out);
    out.write_all(&head)?;
    let mut body = Hashing::new(zstd::stream::write::Encoder::new(&mut out, LEVEL)?);
    body.hasher.update(head);
    body.inner.include_checksum(true)?;
    for tree in trees {
        body.write_all(b"T")?;
        body.write_all(&(tree.name.len() as u32).to_be_bytes())?;
        body.write_all(&tree.name)?;
        body.write_all(&tree.entries.to_be_bytes())?;
        for block in &tree.blocks {
            body.write_all(block)?;
        }
    }
    body.write_all(b"E")?;
    let Hashing {
        inner: encoder,
        hasher: body_hasher,
        bytes: raw,
    } = body;
    encoder.finish()?;
    debug_assert_eq!(raw, header.body_bytes);
    let trailer = Trailer {
        trees: header.trees,
        entries: header.entries,
        body_bytes: raw,
        compressed_bytes: out.bytes - HEADER_LEN as u64,
        body_digest: body_hasher.finalize().into(),
        file_digest: out.hasher.clone().finalize().into(),
    };
    out.write_all(&trailer.encode())?;
    out.flush()?;
    Ok(out.bytes)
}

/// Hashes and counts what is read or written through it.
pub(super) struct Hashing<T> {
    pub inner: T,
    pub hasher: Sha256,
    pub bytes: u64,
}

impl<T> Hashing<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}
