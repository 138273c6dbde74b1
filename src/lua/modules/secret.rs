//! `labrun.secret(name, { length = 16, chars = "..." })`: a random string
//! (a bootstrap token, a password) made once and kept in the lab's secrets,
//! the same on every later load, never printed by labrun.

use crate::lua::location;
use crate::secrets::LabSecrets;
use mlua::{Lua, Table};
use serde_json::Value as Json;

/// The entry of the lab's secrets that holds these strings, by name.
pub const SECRET: &str = "random";

/// Lower-case letters and digits, as kubeadm's bootstrap tokens use.
const DEFAULT_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789";

/// `length` characters drawn uniformly from `chars`.
fn random_string(length: usize, chars: &[char]) -> Result<String, String> {
    let n = chars.len();
    // Bytes at or above the largest multiple of n would bias the draw.
    let limit = 256 - 256 % n;
    let mut out = String::with_capacity(length);
    while out.len() < length {
        let mut buf = [0u8; 64];
        getrandom::fill(&mut buf).map_err(|e| format!("no randomness: {e}"))?;
        for b in buf {
            if (b as usize) < limit && out.chars().count() < length {
                out.push(chars[b as usize % n]);
            }
        }
    }
    Ok(out)
}

/// Adds `labrun.secret`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    labrun.set(
        "secret",
        lua.create_function(|lua, (name, opts): (String, Option<Table>)| {
            let mut length = 16usize;
            let mut chars: Vec<char> = DEFAULT_CHARS.chars().collect();
            if let Some(opts) = opts {
                for pair in opts.pairs::<String, mlua::Value>() {
                    match pair? {
                        (k, mlua::Value::Integer(n)) if k == "length" && (1..=4096).contains(&n) => {
                            length = n as usize
                        }
                        (k, mlua::Value::String(s)) if k == "chars" && !s.to_str()?.is_empty() => {
                            chars = s.to_str()?.chars().collect();
                            chars.sort();
                            chars.dedup();
                        }
                        (k, v) => {
                            return Err(location::error(
                                lua,
                                format!(
                                    "labrun.secret: {k} = {v:?} (known: length 1-4096, chars = a non-empty string)"
                                ),
                            ));
                        }
                    }
                }
            }
            let store = lua
                .app_data_ref::<LabSecrets>()
                .map(|s| s.clone())
                .filter(LabSecrets::is_open)
                .ok_or_else(|| {
                    location::error(lua, "labrun.secret: declare the lab first (labrun.lab{...})")
                })?;
            let mut all = match store.get(SECRET) {
                Some(Json::Object(m)) => m,
                _ => serde_json::Map::new(),
            };
            if let Some(Json::String(s)) = all.get(&name)
                && s.chars().count() == length
                && s.chars().all(|c| chars.contains(&c))
            {
                return Ok(s.clone());
            }
            let made = random_string(length, &chars).map_err(|e| location::error(lua, e))?;
            all.insert(name, Json::String(made.clone()));
            store.set(SECRET, Json::Object(all));
            Ok(made)
        })?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_only_from_the_alphabet_and_differs_each_time() {
        let chars: Vec<char> = DEFAULT_CHARS.chars().collect();
        let a = random_string(22, &chars).unwrap();
        let b = random_string(22, &chars).unwrap();
        assert_eq!(a.chars().count(), 22);
        assert!(a.chars().all(|c| chars.contains(&c)), "{a}");
        assert_ne!(a, b);
        let hex: Vec<char> = "0123456789abcdef".chars().collect();
        assert!(
            random_string(64, &hex)
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_hexdigit())
        );
    }
}
