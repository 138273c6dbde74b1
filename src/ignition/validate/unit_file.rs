//! systemd unit file contents read as go-systemd's lexer reads them, which is
//! what Ignition checks units with.

/// Lines longer than this (in bytes) are refused, as systemd truncates them.
const LINE_MAX: usize = 2048;

/// The section of every option in `contents`, in order, or why the contents
/// cannot be read (Ignition's "invalid unit content: …").
pub(crate) fn option_sections(contents: &str) -> Result<Vec<String>, String> {
    let mut lexer = Lexer {
        src: contents.as_bytes(),
        pos: 0,
        sections: Vec::new(),
    };
    lexer.run().map(|()| lexer.sections)
}

struct Lexer<'s> {
    src: &'s [u8],
    pos: usize,
    sections: Vec<String>,
}

enum Step {
    NextSection,
    SectionName,
    NextSectionOrOption(String),
    OptionName(String),
}

impl Lexer<'_> {
    fn run(&mut self) -> Result<(), String> {
        let mut step = Step::NextSection;
        loop {
            self.check_line_length()?;
            step = match step {
                Step::NextSection => match self.next_byte() {
                    None => return Ok(()),
                    Some(b'[') => Step::SectionName,
                    Some(b'#' | b';') => {
                        self.ignore_line();
                        Step::NextSection
                    }
                    Some(_) => Step::NextSection,
                },
                Step::SectionName => {
                    let Some(end) = self.src[self.pos..].iter().position(|&b| b == b']') else {
                        return Err("unable to find end of section".into());
                    };
                    let name = String::from_utf8_lossy(&self.src[self.pos..self.pos + end]);
                    let name = name.into_owned();
                    self.pos += end + 1;
                    let garbage = self.rest_of_line();
                    let garbage = String::from_utf8_lossy(garbage).trim().to_owned();
                    if !garbage.is_empty() {
                        return Err(format!("found garbage after section name : {garbage:?}"));
                    }
                    Step::NextSectionOrOption(name)
                }
                Step::NextSectionOrOption(section) => match self.peek_char() {
                    None => return Ok(()),
                    Some(c) if c.is_whitespace() => {
                        self.pos += c.len_utf8();
                        Step::NextSectionOrOption(section)
                    }
                    Some('[') => {
                        self.pos += 1;
                        Step::SectionName
                    }
                    Some('#' | ';') => {
                        self.pos += 1;
                        self.ignore_line();
                        Step::NextSectionOrOption(section)
                    }
                    Some(_) => Step::OptionName(section),
                },
                Step::OptionName(section) => {
                    loop {
                        match self.next_byte() {
                            None => return Err("EOF".into()),
                            Some(b'\n' | b'\r') => {
                                return Err(
                                    "unexpected newline encountered while parsing option name"
                                        .into(),
                                );
                            }
                            Some(b'=') => break,
                            Some(_) => {}
                        }
                    }
                    self.option_value();
                    self.sections.push(section.clone());
                    Step::NextSectionOrOption(section)
                }
            };
        }
    }

    fn next_byte(&mut self) -> Option<u8> {
        let b = self.src.get(self.pos).copied()?;
        self.pos += 1;
        Some(b)
    }

    fn peek_char(&self) -> Option<char> {
        let rest = &self.src[self.pos..];
        let len = rest.len().min(4);
        let text = match std::str::from_utf8(&rest[..len]) {
            Ok(t) => t,
            Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or(""),
        };
        text.chars()
            .next()
            .or_else(|| (!rest.is_empty()).then_some('\u{fffd}'))
    }

    /// The rest of the line without its line ending; the position moves past it.
    fn rest_of_line(&mut self) -> &[u8] {
        let rest = &self.src[self.pos..];
        let (line, used) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        self.pos += used;
        line.strip_suffix(b"\r").unwrap_or(line)
    }

    fn at_eof(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// Skips a comment line and the lines it continues onto.
    fn ignore_line(&mut self) {
        loop {
            let line = self.rest_of_line();
            let line = line.strip_suffix(b" ").unwrap_or(line);
            if !line.ends_with(b"\\") || self.at_eof() {
                return;
            }
        }
    }

    /// Skips an option's value, following backslash continuations.
    fn option_value(&mut self) {
        loop {
            let line = self.rest_of_line();
            let continued = !line.trim_ascii().is_empty() && line.ends_with(b"\\");
            if !continued || self.at_eof() {
                return;
            }
        }
    }

    /// systemd truncates long lines; refuse them rather than pass silently.
    fn check_line_length(&self) -> Result<(), String> {
        let rest = &self.src[self.pos..];
        if rest.len() >= LINE_MAX && !rest[..LINE_MAX].iter().any(|&b| b == b'\n' || b == b'\r') {
            return Err(format!("line too long (max {LINE_MAX} bytes)"));
        }
        Ok(())
    }
}
