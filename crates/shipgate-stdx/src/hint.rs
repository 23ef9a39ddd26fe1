//! The hint an error carries as data, and finding it in an error chain: each library crate
//! implements [`Hint`] for its error types and lists them in its `HINTS`; the front end
//! gives [`hint_of`] the chain and every crate's `HINTS`.
//!
//! A `dyn Error` cannot be asked whether it implements a trait, only whether it is a given
//! type, so the lists of [`HintLookup`]s stand in for that question: one entry per type.

use std::error::Error;

/// An error that may say what to do about it, apart from its message.
pub trait Hint: Error + 'static {
    /// What to do about it, when there is something to say.
    fn hint(&self) -> Option<String>;
}

/// Asks an error whether it is one given type: `None` when it is not, `Some(its hint)`
/// when it is. [`lookup`] makes one for any [`Hint`] type.
pub type HintLookup = fn(&(dyn Error + 'static)) -> Option<Option<String>>;

/// The [`HintLookup`] of `E`: `e`'s hint when `e` is an `E`.
pub fn lookup<E: Hint>(e: &(dyn Error + 'static)) -> Option<Option<String>> {
    e.downcast_ref::<E>().map(Hint::hint)
}

/// The hint of the first error of `chain` that has one: an error of a type none of
/// `lookups` knows, or whose hint is `None`, lets the next one speak.
pub fn hint_of<'a>(
    mut chain: impl Iterator<Item = &'a (dyn Error + 'static)>,
    lookups: &[&[HintLookup]],
) -> Option<String> {
    chain.find_map(|e| {
        lookups
            .iter()
            .flat_map(|list| list.iter())
            .find_map(|lookup| lookup(e))
            .flatten()
    })
}

/// Implements [`Hint`] for each error type given, by the type's own `hint()` method (which
/// returns `Option<String>`, or `String` when there is always something to say), and
/// defines `pub const HINTS`, their [`HintLookup`]s, for the front end's [`hint_of`]. One
/// list makes both, so a type cannot have a hint that the front end never finds.
#[macro_export]
macro_rules! hints {
    ($($error:ty),+ $(,)?) => {
        $(
            impl $crate::hint::Hint for $error {
                fn hint(&self) -> ::std::option::Option<::std::string::String> {
                    ::std::option::Option::from(<$error>::hint(self))
                }
            }
        )+
        /// Every error type of this crate that carries a hint, for
        /// `shipgate_stdx::hint::hint_of`.
        pub const HINTS: &[$crate::hint::HintLookup] = &[$($crate::hint::lookup::<$error>),+];
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle")]
    struct Middle(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner")]
    struct Inner;

    #[derive(Debug, thiserror::Error)]
    #[error("plain")]
    struct Plain;

    impl Hint for Outer {
        fn hint(&self) -> Option<String> {
            None
        }
    }

    impl Hint for Middle {
        fn hint(&self) -> Option<String> {
            Some("the middle's".into())
        }
    }

    impl Hint for Inner {
        fn hint(&self) -> Option<String> {
            Some("the inner's".into())
        }
    }

    const ONE: &[HintLookup] = &[lookup::<Outer>];
    const TWO: &[HintLookup] = &[lookup::<Inner>, lookup::<Middle>];

    fn chain<'a>(e: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
        std::iter::successors(Some(e), |&e| e.source())
    }

    #[test]
    fn lookup_answers_for_its_own_type_only() {
        assert_eq!(
            lookup::<Middle>(&Middle(Inner)),
            Some(Some("the middle's".into()))
        );
        assert_eq!(lookup::<Outer>(&Outer(Middle(Inner))), Some(None));
        assert_eq!(lookup::<Middle>(&Inner), None);
    }

    #[test]
    fn the_first_error_with_a_hint_wins() {
        let err = Outer(Middle(Inner));
        // Outer is known but has nothing to say: Middle, the next, speaks before Inner.
        assert_eq!(
            hint_of(chain(&err), &[ONE, TWO]).as_deref(),
            Some("the middle's")
        );
        assert_eq!(
            hint_of(chain(&Inner), &[ONE, TWO]).as_deref(),
            Some("the inner's")
        );
        // A type no list knows is passed over.
        assert_eq!(hint_of(chain(&err), &[ONE]), None);
    }

    #[test]
    fn a_plain_error_has_no_hint() {
        assert_eq!(hint_of(chain(&Plain), &[ONE, TWO]), None);
        assert_eq!(hint_of(std::iter::empty(), &[ONE, TWO]), None);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("always")]
    struct Always;

    impl Always {
        fn hint(&self) -> String {
            "always this".into()
        }
    }

    mod by_macro {
        crate::hints!(super::Always);
    }

    #[test]
    fn the_macro_uses_the_types_own_hint_and_lists_it() {
        assert_eq!(Hint::hint(&Always).as_deref(), Some("always this"));
        assert_eq!(
            hint_of(chain(&Always), &[by_macro::HINTS]).as_deref(),
            Some("always this")
        );
    }
}
