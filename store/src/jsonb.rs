//! A JSON text already serialized in Rust, sent as a `json`/`jsonb` parameter without being
//! turned into a `serde_json::Value` first. The same text is hashed for change detection.

use bytes::{BufMut, BytesMut};
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use std::error::Error;

#[derive(Debug)]
pub(crate) struct JsonText(pub(crate) String);

impl JsonText {
    pub(crate) fn of<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<JsonText> {
        serde_json::to_string(value).map(JsonText)
    }
}

impl ToSql for JsonText {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        // The binary jsonb format is a version byte (1) followed by the JSON text.
        if *ty == Type::JSONB {
            out.put_u8(1);
        }
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }

    to_sql_checked!();
}
