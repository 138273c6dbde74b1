fn main() -> std::process::ExitCode {
    // Die quietly when stdout is a closed pipe (`labrun graph x | head`),
    // like other Unix tools; sockets are written with MSG_NOSIGNAL.
    // SAFETY: called first thing, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    labrun::cli::main()
}
