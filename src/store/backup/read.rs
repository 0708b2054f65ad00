//! Reading a backup file back whole: the checks of every part of it
//! ([`super::format`] has the layout).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use sha2::Digest as _;

use super::format::{Hashing, Header, Trailer, HEADER_LEN, MAGIC, TRAILER_LEN};
use crate::store::{StoreError, FORMAT_VERSION};

/// What the body holds, as [`read`] hands it over.
pub(super) enum Item<'a> {
    /// A tree starts; its entries follow.
    Tree { name: &'a [u8] },
    /// An entry of the last tree.
    Entry { key: &'a [u8], value: &'a [u8] },
}

/// A file read whole and found sound.
#[derive(Debug, Clone)]
pub(super) struct Contents {
    pub header: Header,
    pub file_bytes: u64,
    /// Each tree's name and entry count, in the file's order.
    pub trees: Vec<(Vec<u8>, u64)>,
}

/// Why a file is refused, before the file's name is put to it.
type Refusal = String;

/// Reads the file at `path` whole, handing each tree and entry to
/// `visit`, and checks it: magic, versions, trailer, length, zstd's
/// checksum, the SHA-256 and every count. An error of `visit` stops the
/// read and is returned as it is; everything else wrong with the file is
/// [`StoreError::BadBackup`]. Only once this returns `Ok` is what `visit`
/// saw known to be the file's true contents.
pub(super) fn read(
    path: &Path,
    mut visit: impl FnMut(Item<'_>) -> Result<(), StoreError>,
) -> Result<Contents, StoreError> {
    let bad = |reason: Refusal| StoreError::BadBackup {
        file: path.to_path_buf(),
        reason,
    };
    let mut file = File::open(path).map_err(|e| bad(format!("cannot open it: {e}")))?;
    let (header, trailer, file_bytes) = frame(&mut file).map_err(&bad)?;
    let mut visited: Option<StoreError> = None;
    let trees = body(&mut file, &header, &trailer, |item| match visit(item) {
        Ok(()) => Ok(()),
        Err(e) => {
            visited = Some(e);
            Err("stopped".into())
        }
    });
    let trees = match (trees, visited) {
        (_, Some(e)) => return Err(e),
        (trees, None) => trees.map_err(&bad)?,
    };
    let (count_trees, count_entries) = (
        trees.len() as u64,
        trees.iter().map(|(_, n)| n).sum::<u64>(),
    );
    for (what, header_says, trailer_says, found) in [
        (
            "trees",
            u64::from(header.trees),
            u64::from(trailer.trees),
            count_trees,
        ),
        ("entries", header.entries, trailer.entries, count_entries),
    ] {
        if header_says != found || trailer_says != found {
            return Err(bad(format!(
                "damaged: the body holds {found} {what}, the header says {header_says} \
                 and the trailer {trailer_says}"
            )));
        }
    }
    if header.store_format == 0 || header.store_format > FORMAT_VERSION {
        return Err(bad(format!(
            "made by a newer version of jobbridge: store format {}, this build reads \
             formats up to {FORMAT_VERSION}",
            header.store_format
        )));
    }
    Ok(Contents {
        header,
        file_bytes,
        trees,
    })
}

/// Reads the header and the trailer and checks the file's length against
/// them; leaves `file` anywhere.
fn frame(file: &mut File) -> Result<(Header, Trailer, u64), Refusal> {
    let io = |e: io::Error| format!("cannot read it: {e}");
    let len = file.metadata().map_err(io)?.len();
    let mut head = [0u8; HEADER_LEN];
    let got = read_up_to(file, &mut head).map_err(io)?;
    let magic = got.min(MAGIC.len());
    if head[..magic] != MAGIC[..magic] {
        return Err(format!(
            "not a jobbridge backup: it does not start with {:?}",
            String::from_utf8_lossy(MAGIC)
        ));
    }
    if got < HEADER_LEN {
        return Err(format!(
            "truncated: {len} bytes, shorter than a backup's {HEADER_LEN}-byte header"
        ));
    }
    let header = Header::decode(&head)?;
    let least = (HEADER_LEN + TRAILER_LEN) as u64;
    if len < least {
        return Err(format!(
            "truncated: {len} bytes, shorter than a backup's header and trailer ({least})"
        ));
    }
    let mut tail = [0u8; TRAILER_LEN];
    file.seek(SeekFrom::Start(len - TRAILER_LEN as u64))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(io)?;
    let trailer = Trailer::decode(&tail)?;
    if trailer.compressed_bytes.checked_add(least) != Some(len) {
        return Err(format!(
            "damaged: the trailer counts {} bytes of compressed body, the file holds {}",
            trailer.compressed_bytes,
            len - least
        ));
    }
    Ok((header, trailer, len))
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Decompresses and parses the body, checking both digests and the
/// body's length; returns each tree's name and entry count.
fn body(
    file: &mut File,
    header: &Header,
    trailer: &Trailer,
    visit: impl FnMut(Item<'_>) -> Result<(), Refusal>,
) -> Result<Vec<(Vec<u8>, u64)>, Refusal> {
    let head = header.encode();
    file.seek(SeekFrom::Start(HEADER_LEN as u64))
        .map_err(|e| format!("cannot read it: {e}"))?;
    let mut compressed = Hashing::new(file.take(trailer.compressed_bytes));
    compressed.hasher.update(head);
    let decoder =
        zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(1 << 20, compressed))
            .map_err(|e| format!("cannot decompress it: {e}"))?;
    let mut body = Hashing::new(decoder);
    body.hasher.update(head);
    let parsed = parse(&mut body, visit);
    // Whatever the parse found, every compressed byte is hashed, so that
    // a damaged file is named as such rather than by what broke first.
    let Hashing {
        inner: decoder,
        hasher: body_hasher,
        bytes: body_bytes,
    } = body;
    let mut compressed = decoder.finish().into_inner();
    let drained = io::copy(&mut compressed, &mut io::sink());
    let file_digest: [u8; 32] = compressed.hasher.finalize().into();
    if drained.is_ok() && file_digest != trailer.file_digest {
        return Err(mismatch("its bytes", &file_digest, &trailer.file_digest));
    }
    let trees = parsed?;
    drained.map_err(|e| format!("cannot read it: {e}"))?;
    let body_digest: [u8; 32] = body_hasher.finalize().into();
    if body_digest != trailer.body_digest {
        return Err(mismatch(
            "what it decompresses to",
            &body_digest,
            &trailer.body_digest,
        ));
    }
    if body_bytes != header.body_bytes || body_bytes != trailer.body_bytes {
        return Err(format!(
            "damaged: the body holds {body_bytes} bytes, the header says {} and the trailer {}",
            header.body_bytes, trailer.body_bytes
        ));
    }
    Ok(trees)
}

fn mismatch(what: &str, found: &[u8; 32], recorded: &[u8; 32]) -> Refusal {
    format!(
        "checksum mismatch: {what} hash to SHA-256 {}..., the trailer records {}... \
         (the file is damaged)",
        hex(&found[..8]),
        hex(&recorded[..8])
    )
}

/// The trees and entries of a decompressed body, up to its end mark.
fn parse(
    body: &mut impl Read,
    mut visit: impl FnMut(Item<'_>) -> Result<(), Refusal>,
) -> Result<Vec<(Vec<u8>, u64)>, Refusal> {
    let damaged = |e: io::Error| format!("damaged: its compressed body cannot be read ({e})");
    let mut trees = Vec::new();
    let (mut key, mut value) = (Vec::new(), Vec::new());
    loop {
        let [tag] = array(body).map_err(damaged)?;
        match tag {
            b'T' => {
                let name = field(body, &mut key).map_err(damaged)?.to_vec();
                let entries = u64::from_be_bytes(array(body).map_err(damaged)?);
                visit(Item::Tree { name: &name })?;
                for _ in 0..entries {
                    field(body, &mut key).map_err(damaged)?;
                    field(body, &mut value).map_err(damaged)?;
                    visit(Item::Entry {
                        key: &key,
                        value: &value,
                    })?;
                }
                trees.push((name, entries));
            }
            b'E' => break,
            other => return Err(format!("damaged: unknown mark {other:#04x} in its body")),
        }
    }
    let mut rest = [0u8; 1];
    if body.read(&mut rest).map_err(damaged)? != 0 {
        return Err("damaged: bytes follow the end of its body".into());
    }
    Ok(trees)
}

/// Reads a length (u32) and that many bytes into `buf`; growing it only
/// as bytes arrive, so that a damaged length cannot ask for gigabytes.
fn field<'b>(body: &mut impl Read, buf: &'b mut Vec<u8>) -> io::Result<&'b [u8]> {
    let len = u32::from_be_bytes(array(body)?);
    buf.clear();
    body.take(u64::from(len)).read_to_end(buf)?;
    if buf.len() != len as usize {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the body ends inside an entry",
        ));
    }
    Ok(buf)
}

fn array<const N: usize>(body: &mut impl Read) -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    body.read_exact(&mut b)?;
    Ok(b)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
