//! Running a command on a connection: stdin in, stdout/stderr/exit status out.

use std::time::Duration;

use russh::{ChannelMsg, Sig};

use super::{Connection, SshError};

/// Which output of a remote command some bytes came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Where streamed output goes.
pub type Sink<'a> = &'a mut (dyn FnMut(Stream, &[u8]) + Send);

/// What a remote command produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Everything written to standard output.
    pub stdout: Vec<u8>,
    /// Everything written to standard error.
    pub stderr: Vec<u8>,
    /// Exit status, if the command exited normally.
    pub status: Option<u32>,
    /// Signal name (e.g. `KILL`), if the command was killed by one.
    pub signal: Option<String>,
}

impl Output {
    /// Whether the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// Standard output as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Standard error as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// `exit status N`, `killed by signal S` or `no exit status`.
    pub fn describe_status(&self) -> String {
        match (&self.status, &self.signal) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => "no exit status".into(),
        }
    }
}

impl Connection {
    /// Runs `command` through the remote user's shell, feeding it `stdin`
    /// (then end-of-file), and collects its output. A non-zero exit status
    /// is not an error: check [`Output::success`]. Past `timeout` the command
    /// is signalled, its channel closed, and [`SshError::CommandTimeout`]
    /// returned.
    pub async fn run(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Output, SshError> {
        self.execute(command, stdin, Some(timeout), None).await
    }

    /// [`run`](Self::run), handing standard output and error to `sink` as
    /// they come (`journalctl -f` shows lines at once) instead of keeping
    /// them; the returned output holds only the status.
    pub async fn run_streaming(
        &self,
        command: &str,
        timeout: Option<Duration>,
        sink: Sink<'_>,
    ) -> Result<Output, SshError> {
        self.execute(command, None, timeout, Some(sink)).await
    }

    /// [`run`](Self::run), with an optional timeout and sink. Without a
    /// timeout a dead peer is still noticed through keepalives.
    pub(super) async fn execute(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        timeout: Option<Duration>,
        mut sink: Option<Sink<'_>>,
    ) -> Result<Output, SshError> {
        let channel = self
            .handle()
            .channel_open_session()
            .await
            .map_err(|e| self.protocol_error(e))?;
        let (mut reader, writer) = channel.split();
        writer
            .exec(true, command)
            .await
            .map_err(|e| self.protocol_error(e))?;

        let send = async {
            if let Some(input) = stdin {
                writer.data(input).await?;
            }
            writer.eof().await
        };
        let receive = async {
            let mut output = Output::default();
            while let Some(message) = reader.wait().await {
                match message {
                    ChannelMsg::Data { data } => match sink.as_mut() {
                        Some(sink) => sink(Stream::Stdout, &data),
                        None => output.stdout.extend_from_slice(&data),
                    },
                    ChannelMsg::ExtendedData { data, ext: 1 } => match sink.as_mut() {
                        Some(sink) => sink(Stream::Stderr, &data),
                        None => output.stderr.extend_from_slice(&data),
                    },
                    ChannelMsg::ExitStatus { exit_status } => output.status = Some(exit_status),
                    ChannelMsg::ExitSignal { signal_name, .. } => {
                        output.signal = Some(signal_name_text(&signal_name))
                    }
                    ChannelMsg::Failure => return Err(russh::Error::RequestDenied),
                    ChannelMsg::Close => break,
                    _ => {}
                }
            }
            Ok(output)
        };
        let exchange = futures::future::join(send, receive);
        let (sent, received) = match timeout {
            None => exchange.await,
            Some(limit) => match tokio::time::timeout(limit, exchange).await {
                Ok(done) => done,
                Err(_) => {
                    // Best effort: the peer may already be gone.
                    let _ = writer.signal(Sig::KILL).await;
                    let _ = writer.close().await;
                    return Err(SshError::CommandTimeout {
                        host: self.name().to_string(),
                        command: command.to_string(),
                        after: limit,
                    });
                }
            },
        };
        let output = received.map_err(|e| self.protocol_error(e))?;
        // A command may exit without reading all of its input; a failed send
        // only matters if the command claims success.
        if output.success() {
            sent.map_err(|e| self.protocol_error(e))?;
        }
        Ok(output)
    }
}

fn signal_name_text(signal: &Sig) -> String {
    match signal {
        Sig::Custom(name) => name.clone(),
        other => format!("{other:?}"),
    }
}
