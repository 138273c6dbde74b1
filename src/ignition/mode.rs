//! Butane's heuristic for file modes written in decimal by mistake.

/// Butane's check for a mode written in decimal by mistake (`mode: 644`).
pub(crate) fn is_decimal_mistake(mode: i64, directory: bool) -> bool {
    if !(0..=7777).contains(&mode) {
        return false;
    }
    let digits = [mode / 1000 % 10, mode / 100 % 10, mode / 10 % 10, mode % 10];
    if digits.iter().any(|&d| d > 7) {
        return false;
    }
    let octal = digits.iter().fold(0, |acc, d| (acc << 3) | d);
    !is_typical_mode(mode, directory) && is_typical_mode(octal, directory)
}

fn is_typical_mode(mode: i64, directory: bool) -> bool {
    if mode == 0 {
        return true;
    }
    let (mut had_r, mut had_w, mut had_x) = (false, false, false);
    for perm in [mode & 7, (mode >> 3) & 7, (mode >> 6) & 7] {
        let (r, w, x) = (perm & 4 != 0, perm & 2 != 0, perm & 1 != 0);
        if (!r && had_r) || (!w && had_w) || (!x && had_x) {
            return false;
        }
        if x && had_r && !had_x {
            return false;
        }
        if (w || x) && !r {
            return false;
        }
        had_r |= r;
        had_w |= w;
        had_x |= x;
    }
    if !had_r {
        return false;
    }
    if directory {
        had_x && mode & 0o4000 == 0 && (mode & 0o3000 == 0 || had_w)
    } else {
        (mode & 0o6000 == 0 || (had_x && mode & 2 == 0)) && mode & 0o1000 == 0
    }
}
