//! `data:` URLs as Butane writes them, and their decoding.

use std::borrow::Cow;
use std::cell::RefCell;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str};

/// RFC 2396 unreserved characters stay as they are, like Go's dataurl.Escape.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// `contents` percent-encoded as Go's `dataurl.Escape` does.
pub(crate) fn escape(contents: &[u8]) -> String {
    percent_encoding::percent_encode(contents, ESCAPED).to_string()
}

/// The shortest of percent-encoded, base64 and (unless the user already
/// compressed the contents) gzip+base64, as Butane chooses. Returns the URL and
/// the `compression` value to set: `Some("")` or `Some("gzip")`, or `None` to
/// keep the user's.
pub(crate) fn encode(contents: &[u8], user_compressed: bool) -> (String, Option<&'static str>) {
    let mut opaque = format!(",{}", escape(contents));
    let b64 = format!(";base64,{}", STANDARD.encode(contents));
    if b64.len() < opaque.len() {
        opaque = b64;
    }
    if user_compressed {
        return (format!("data:{opaque}"), None);
    }
    let mut compression = "";
    let gz = format!(";base64,{}", STANDARD.encode(gzip(contents)));
    if gz.len() + "gzip".len() < opaque.len() {
        opaque = gz;
        compression = "gzip";
    }
    (format!("data:{opaque}"), Some(compression))
}

/// Gzip with the best compression, a zero timestamp and "unknown" OS, so the
/// same input always gives the same bytes. The deflate state (hundreds of KB)
/// is kept per thread: allocating it for every file dominated translation.
fn gzip(contents: &[u8]) -> Vec<u8> {
    thread_local! {
        static DEFLATE: RefCell<Compress> = RefCell::new(Compress::new(Compression::best(), false));
    }
    let mut out = Vec::with_capacity(contents.len() / 2 + 64);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
    DEFLATE.with_borrow_mut(|deflate| {
        deflate.reset();
        loop {
            out.reserve(contents.len() / 4 + 64);
            let read = usize::try_from(deflate.total_in()).expect("input fits in memory");
            let status = deflate
                .compress_vec(&contents[read..], &mut out, FlushCompress::Finish)
                .expect("deflate of a complete buffer cannot fail");
            if status == Status::StreamEnd {
                break;
            }
        }
    });
    let mut crc = Crc::new();
    crc.update(contents);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(contents.len() as u32).to_le_bytes());
    out
}

/// The bytes of a `data:` URL (`data:[<media type>][;base64],<data>`), or why
/// it is malformed.
pub(crate) fn decode(url: &str) -> Result<Vec<u8>, String> {
    let rest = url
        .strip_prefix("data:")
        .ok_or_else(|| "not a data URL".to_string())?;
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| "data URL has no comma".to_string())?;
    // Data URLs written by Butane have no escapes to undo: skip the copy.
    let bytes: Cow<[u8]> = if data.contains('%') {
        Cow::Owned(percent_decode_str(data).collect())
    } else {
        Cow::Borrowed(data.as_bytes())
    };
    if !meta.ends_with(";base64") {
        return Ok(bytes.into_owned());
    }
    let bytes = if bytes.iter().any(u8::is_ascii_whitespace) {
        Cow::Owned(
            bytes
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect(),
        )
    } else {
        bytes
    };
    STANDARD
        .decode(bytes)
        .map_err(|e| format!("invalid base64 in data URL: {e}"))
}
