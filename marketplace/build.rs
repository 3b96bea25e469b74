//! The API document names amounts `Minor` in the code but integers on the wire: utoipa reads
//! its type aliases from the file this writes.

fn main() {
    utoipa_config::Config::new()
        .alias_for("Minor", "i64")
        .write_to_file();
}
