//! The retention sweep: each room with a policy is swept a batch (one short transaction) at a
//! time, yielding between batches, so the room's writes (which lock the room row, never the old
//! messages a batch takes) go on. `startup` runs it every `retention.sweep_interval_secs`.

use crate::commands::retention;
use crate::db::{self, DbPool};
use crate::error::AppResult;

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
            let n = {
                let mut conn = pool.get().await?;
                retention::sweep_batch(&mut conn, room, batch).await?
            };
            total += n;
            if (n as i64) < batch {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    Ok(total)
}
