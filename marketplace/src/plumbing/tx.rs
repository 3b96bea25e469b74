//! Ending a use case's transaction.

use crate::error::Error;

/// Ends a use case's transaction by its result: commit, or an explicit rollback. A dropped
/// transaction also rolls back, but only once its connection is next used (asynchronously),
/// and until then it keeps its row locks: sweeps would skip the row and competing requests
/// would wait.
pub(crate) async fn finish<T>(
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    result: Result<T, Error>,
) -> Result<T, Error> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(err) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(err)
        }
    }
}
