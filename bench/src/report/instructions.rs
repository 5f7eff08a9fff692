//! The section of a `--callgrind` run: the CPU instructions each server executes per request.

use std::fmt::Write as _;

use super::{ratio, title};
use crate::callgrind::Count;
use crate::machine::Machine;
use crate::options::Options;

/// The section of a `--callgrind` run.
pub fn callgrind_section(opts: &Options, machine: &Machine, valgrind: &str, counts: &[Count]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## {}\n", title(opts));
    let _ = writeln!(s, "- Command: `{}`", opts.command);
    let _ = writeln!(s, "- Date: {}; code: {}", machine.date, machine.commit);
    let _ = writeln!(s, "- Machine: `nproc` = {}, {}; memory {}", machine.nproc, machine.cpu, machine.memory);
    let _ = writeln!(s, "- Software: {valgrind}; {}; {}", machine.postgres, machine.wrk);
    let _ = writeln!(
        s,
        "- Load: each server under `valgrind --tool=callgrind`; per scenario a 3 s warm-up, counters zeroed, \
         wrk `-t1 -c1 -d{}s`, counters dumped; pool of {} connections; {} build\n",
        opts.duration,
        opts.pool,
        if cfg!(debug_assertions) { "debug" } else { "release" },
    );
    let _ = writeln!(
        s,
        "CPU instructions the server process executes per request (all threads: tokio, hyper, sqlx's \
         protocol work, the handler), which repeat from run to run where requests/s on this shared \
         machine do not. PostgreSQL's own work is not counted: it is the same for both servers.\n"
    );
    let _ = writeln!(
        s,
        "| scenario | framework instructions/request | baseline instructions/request | framework / baseline | requests counted (framework, baseline) |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: |");
    for read in crate::statements::Read::ALL {
        let of = |system: &str| counts.iter().find(|c| c.scenario == read && c.system == system);
        if let (Some(fw), Some(bl)) = (of("framework"), of("baseline")) {
            let _ = writeln!(
                s,
                "| {} | {:.0} | {:.0} | {:.3} | {}, {} |",
                read.name(),
                fw.per_request(),
                bl.per_request(),
                ratio(fw.per_request(), bl.per_request()),
                fw.requests,
                bl.requests
            );
        }
    }
    let _ = writeln!(
        s,
        "\nThe dumps stay in `target/bench-callgrind/` (`callgrind_annotate target/bench-callgrind/<system>.callgrind.<n>`)."
    );
    s
}
