//! Small macros shared by the capability modules.

/// A closed set of names stored as text: serde, `as_str` and `FromStr` agree by construction.
///
/// Each text is taken as a plain token (`tt`), not a `literal` fragment: utoipa reads
/// `#[serde(rename = …)]` only from a bare literal, and a `literal` fragment reaches the
/// derive wrapped in an invisible group (the document then named the Rust variants).
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)?
    }) => {
        // The type's own attributes come after the derive, so that `#[schema(as = …)]` (a
        // unique name in the API document) follows the derive that introduces it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("unknown {} `{s}`", stringify!($name)))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
