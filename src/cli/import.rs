//! `yui import wordpress export.xml [--uploads DIR] [--room SLUG]`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Subcommand;

use crate::config::Config;
use crate::services::wordpress::{self, Progress};

/// What to import.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A WordPress export (Tools → Export → All content): posts, pages, categories and tags,
    /// comments, authors (as disabled members to invite later) and, with `--uploads`, attachments.
    /// Running it again imports only what is new.
    Wordpress(WordpressArgs),
}

/// Options of `yui import wordpress`.
#[derive(Debug, clap::Args)]
pub struct WordpressArgs {
    /// The export file (WXR, `.xml`).
    pub file: PathBuf,
    /// WordPress's `wp-content/uploads` folder, copied from the old server: attachments are
    /// stored as files and links to them rewritten.
    #[arg(long)]
    pub uploads: Option<PathBuf>,
    /// The room to import into, by its address (default: the public space's blog).
    #[arg(long)]
    pub room: Option<String>,
}

/// Runs `yui import …`.
pub fn run(cmd: ImportCommand, config: Config) -> anyhow::Result<()> {
    let ImportCommand::Wordpress(args) = cmd;
    // The whole file is checked before the site is even opened: a hostile or broken file
    // changes nothing at all.
    let terminal = std::io::stderr().is_terminal();
    let spinner = if terminal {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_style(
            indicatif::ProgressStyle::with_template("checking {spinner} {pos} items")
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        s
    } else {
        indicatif::ProgressBar::hidden()
    };
    let scan = wordpress::check(&args.file, &mut |n| {
        if n % 64 == 0 {
            spinner.set_position(n);
        }
    });
    spinner.finish_and_clear();
    let scan = scan?;
    let core = crate::app::build_core(config)?;
    let bar = if terminal {
        let bar = indicatif::ProgressBar::new(scan.items);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "importing [{bar:40}] {pos}/{len} items ({eta})",
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .progress_chars("=> "),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let opts = wordpress::Options {
        file: args.file,
        uploads: args.uploads,
        room: args.room,
    };
    let result = wordpress::import(&core, &opts, &scan, &mut |p| match p {
        Progress::Start(n) => bar.set_length(n),
        Progress::Item => bar.inc(1),
    });
    bar.finish_and_clear();
    let summary = result?;
    for line in summary.lines() {
        super::say(&line);
    }
    Ok(())
}
