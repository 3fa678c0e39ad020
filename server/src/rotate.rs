//! `grantline encryption rotate`: re-seals every stored secret with the keyring's current key,
//! printing each batch, and "done" once no value sealed with another key remains.

use grantline_core::engine::crypto::rotation::RotationBatch;
use grantline_core::engine::Engine;
use grantline_core::Result;

/// Runs the rotation on `engine` (its vault's keyring: the new key first, the old ones after),
/// `batch_size` values a transaction, stopping after `max_batches` batches if given.
pub async fn run(engine: &Engine, batch_size: u32, max_batches: Option<u64>) -> Result<()> {
    let ids = engine.encryption_key_ids();
    println!("re-sealing every stored secret with the key `{}` (keyring: {}), {batch_size} values a batch", ids[0], ids.join(", "));
    let report = engine
        .rotate_encryption_key(batch_size, max_batches, |b: &RotationBatch| {
            println!(
                "pass {}: {:<40} {:>6} re-sealed, {:>4} left for the next pass ({} so far)",
                b.pass, b.column.to_string(), b.resealed, b.skipped, b.total_resealed
            );
        })
        .await?;
    if report.done {
        println!(
            "done: {} values re-sealed in {} batches; every stored secret is sealed with `{}`: the other keys can leave the keyring",
            report.resealed, report.batches, report.current_key_id
        );
    } else {
        println!(
            "stopped after {} batches (--max-batches); {} values re-sealed: run the command again to go on",
            report.batches, report.resealed
        );
    }
    Ok(())
}
