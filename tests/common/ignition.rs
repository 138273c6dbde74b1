//! Reading an Ignition config the way Ignition does on the node: a file's
//! mode and its bytes from the data URL, decompressed.

use base64::Engine;
use std::io::Read;

/// The bytes of an RFC 2397 `data:` URL (`data:,percent-encoded` or
/// `data:;base64,...`), gunzipped if `compression` is `gzip`.
fn data_url(url: &str, compression: &str) -> Vec<u8> {
    let rest = url.strip_prefix("data:").expect("a data: URL");
    let (meta, payload) = rest.split_once(',').expect("a data URL has a comma");
    let bytes = if meta.ends_with(";base64") {
        base64::engine::general_purpose::STANDARD
            .decode(payload)
            .expect("base64")
    } else {
        percent_encoding::percent_decode_str(payload).collect()
    };
    match compression {
        "" => bytes,
        "gzip" => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(bytes.as_slice())
                .read_to_end(&mut out)
                .expect("gzip");
            out
        }
        other => panic!("unknown compression {other}"),
    }
}

/// The mode and contents of the file at `path` in an Ignition config.
pub fn file(ignition: &serde_json::Value, path: &str) -> (u32, Vec<u8>) {
    let files = ignition["storage"]["files"].as_array().expect("files");
    let file = (files.iter())
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no {path} in {ignition}"));
    let contents = &file["contents"];
    let mode = file["mode"].as_u64().expect("a mode") as u32;
    let bytes = data_url(
        contents["source"].as_str().expect("inline contents"),
        contents["compression"].as_str().unwrap_or(""),
    );
    (mode, bytes)
}

/// Whether the config enables the systemd unit `name`.
pub fn enables(ignition: &serde_json::Value, name: &str) -> bool {
    (ignition["systemd"]["units"]
        .as_array()
        .into_iter()
        .flatten())
    .any(|u| u["name"] == name && u["enabled"] == true)
}
