//! Search, the same for every store: the query language ([`query`]), how text is folded and
//! written into an index ([`text`]), what each query term must match there ([`plan`]), and
//! where a found message's matches are ([`highlight`]). No I/O: the stores turn a plan into
//! their own index lookups.

pub mod highlight;
pub mod plan;
pub mod query;
pub mod text;

pub use highlight::{Highlight, highlights};
pub use plan::{Match, TermMatch, plan};
pub use query::{Has, MAX_QUERY_PARTS, SearchQuery, Term, day, parse};
pub use text::{IndexedText, WORD_GAP, fold, gapped, index_text, split_words};
