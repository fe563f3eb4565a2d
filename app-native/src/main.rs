//! `amr`: the AMR desktop app, and with `--no-gui` the headless command line.

mod allocator;
mod bench;
mod charts;
mod cli;
mod convert;
mod error_text;
mod eval_cmd;
mod file_dialog;
mod gui;
mod inputs;
mod inspect_cmd;
mod loss_plot;
mod mamp_cmd;
mod predict_cmd;
mod pretrain_cmd;
mod retest_cmd;
mod run_folder;
mod subset;
mod weights_cmd;
mod weights_plot;
mod windows_arg;
mod worker;

use clap::Parser;

fn main() -> std::process::ExitCode {
    allocator::keep_freed_memory();
    let args = cli::Cli::parse();
    let result = match args.command {
        Some(cmd) => cli::run(cmd),
        None if args.no_gui => Err(anyhow::anyhow!(
            "--no-gui needs a command: inspect, weights, convert, subset, pretrain, import-mamp, embed, bench, linear, finetune, semi, transfer, knn, supervised, maskclr or robustness (see `amr --help`)"
        )),
        None => gui::run(&args.gui),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_text::error_text(&e));
            std::process::ExitCode::FAILURE
        }
    }
}
