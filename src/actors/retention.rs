//! The retention sweep: each room with a policy is swept a batch (one short transaction) at a
//! time, pausing after each batch at least as long as it took, so the sweep never has more than
//! half of the database's time and the room's writes (which lock the room row, never the old
//! messages a batch takes) go on at their usual speed. `startup` runs it every `retention.sweep_interval_secs`.

use std::time::{Duration, Instant};

use crate::commands::retention;
use crate::db::{self, DbPool};
use crate::error::AppResult;

/// The shortest pause between two batches of a room.
const PAUSE: Duration = Duration::from_millis(10);

/// One sweep of every room with a policy; answers how many messages it removed.
pub async fn sweep(pool: &DbPool, batch: i64) -> AppResult<usize> {
    let due = {
        let mut conn = pool.get().await?;
        db::retention::due(&mut conn).await?
    };
    let batch = batch.max(1);
    let mut total = 0;
    for room in &due {
        loop {
            let started = Instant::now();
            let n = {
                let mut conn = pool.get().await?;
                retention::sweep_batch(&mut conn, room, batch).await?
            };
            total += n;
            if (n as i64) < batch {
                break;
            }
            // A breath between batches: the room's writes get the database and the CPU first.
            tokio::time::sleep(started.elapsed().max(PAUSE)).await;
        }
    }
    Ok(total)
}
