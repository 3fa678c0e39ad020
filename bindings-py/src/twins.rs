//! One declaration, two Python classes: `twins!` turns a list of client calls into a blocking
//! class (`Session`: each call runs through `runtime::block_on`, the GIL released and Ctrl-C
//! honoured) and its asyncio twin (`AsyncSession`: each call returns a real coroutine from
//! `runtime::awaitable`, started when first awaited, dropped with its HTTP request when the
//! task is cancelled). The signature, the docstring, the argument checks and the core call are
//! written once, so the two classes cannot drift apart.
//!
//! ```ignore
//! twins! {
//!     /// Docstring of the blocking class.
//!     pub struct Session;
//!     /// Docstring of the asyncio class.
//!     pub struct AsyncSession;
//!     wraps inner: core::Session;          // the field both hold, and `From<core::Session>`
//!
//!     both { … }       // members that do not wait (constructor, getters): the same on each side
//!     blocking { … }   // members only the blocking class has (marked as such where written)
//!     asyncio { … }    // members only the asyncio class has
//!     getters {        // a getter giving each side its own twin class, through `From`
//!         /// Docstring of both getters.
//!         fn connected_accounts(&self) -> ConnectedAccounts | AsyncConnectedAccounts { self.client.connected_accounts() }
//!     }
//!
//!     calls {
//!         /// Docstring of both methods.
//!         #[pyo3(signature = (toolkit, *, alias=None))]
//!         fn authorize(&self, toolkit: String, alias: Option<String>) -> ConnectionRequest | AsyncConnectionRequest {
//!             let session = self.inner.clone();                // runs first, holding the GIL:
//!             async move { session.authorize(&toolkit, alias).await.py() } // then the core call
//!         }
//!     }
//! }
//! ```
//!
//! A call's body reads the arguments (`?` refuses bad ones before anything is sent) and ends in
//! the future to run, whose value reaches Python through `From`: `-> T` means `T` on both
//! sides, `-> T | AsyncT` gives the asyncio class its own type (`AsyncSession` for a `Session`).
//! A list comes back converted with [`list`]. Sections are optional but keep this order.

/// Converts each of a core list's items into its Python view.
pub fn list<T, V: From<T>>(items: Vec<T>) -> Vec<V> {
    items.into_iter().map(V::from).collect()
}

macro_rules! twins {
    (
        $(#[$blocking_doc:meta])*
        pub struct $blocking:ident;
        $(#[$asyncio_doc:meta])*
        pub struct $asyncio:ident;
        wraps $field:ident: $inner:ty;
        $(both { $($both:tt)* })?
        $(blocking { $($blocking_only:tt)* })?
        $(asyncio { $($asyncio_only:tt)* })?
        $(getters {
            $(
                $(#[$getter_attr:meta])*
                fn $getter:ident(&$getter_this:ident) -> $getter_ret:ty | $getter_async_ret:ty { $($getter_body:tt)* }
            )*
        })?
        calls {
            $(
                $(#[$attr:meta])*
                fn $name:ident(&$this:ident $($params:tt)*) -> $ret:ty $(| $async_ret:ty)? {
                    $($body:tt)*
                }
            )*
        }
    ) => {
        $(#[$blocking_doc])*
        #[::pyo3::pyclass(module = "grantline", frozen)]
        pub struct $blocking {
            $field: $inner,
        }

        impl From<$inner> for $blocking {
            fn from($field: $inner) -> Self {
                Self { $field }
            }
        }

        $(#[$asyncio_doc])*
        #[::pyo3::pyclass(module = "grantline", frozen)]
        pub struct $asyncio {
            $field: $inner,
        }

        impl From<$inner> for $asyncio {
            fn from($field: $inner) -> Self {
                Self { $field }
            }
        }

        #[::pyo3::pymethods]
        impl $blocking {
            $($($both)*)?
            $($($blocking_only)*)?
            $($(
                $(#[$getter_attr])*
                #[getter]
                fn $getter(&$getter_this) -> $getter_ret {
                    <$getter_ret>::from({ $($getter_body)* })
                }
            )*)?
            $(
                $(#[$attr])*
                #[allow(clippy::too_many_arguments)] // as many as the Python signature has
                fn $name<'py>(&$this, py: ::pyo3::Python<'py> $($params)*) -> ::pyo3::PyResult<$ret> {
                    let call = { $($body)* };
                    $crate::runtime::block_on(py, call).map(<$ret>::from)
                }
            )*
        }

        #[::pyo3::pymethods]
        impl $asyncio {
            $($($both)*)?
            $($($asyncio_only)*)?
            $($(
                $(#[$getter_attr])*
                #[getter]
                fn $getter(&$getter_this) -> $getter_async_ret {
                    <$getter_async_ret>::from({ $($getter_body)* })
                }
            )*)?
            $(
                $(#[$attr])*
                #[allow(clippy::too_many_arguments)] // as many as the Python signature has
                fn $name<'py>(&$this, py: ::pyo3::Python<'py> $($params)*) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                    let call = { $($body)* };
                    $crate::runtime::awaitable(py, async move { call.await.map($crate::twins::twins!(@async_ret $ret $(| $async_ret)?)) })
                }
            )*
        }
    };
    // The asyncio class's conversion of a call's value: its own type when one is named.
    (@async_ret $ret:ty | $async_ret:ty) => { <$async_ret>::from };
    (@async_ret $ret:ty) => { <$ret>::from };
}

pub(crate) use twins;
