//! `amr`: the AMR desktop app, and with `--no-gui` the headless command line.

mod cli;
mod convert;
mod gui;
mod weights_plot;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let args = cli::Cli::parse();
    match args.command {
        Some(cmd) => cli::run(cmd),
        None if args.no_gui => anyhow::bail!("--no-gui needs a command: inspect, weights or convert (see `amr --help`)"),
        None => gui::run(&args.gui),
    }
}
