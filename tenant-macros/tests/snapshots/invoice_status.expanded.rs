impl InvoiceStatus {
    /// The string this value is stored and serialized as: one of "draft", "sent", "settled".
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Sent => "sent",
            Self::Paid => "settled",
        }
    }
}
impl ::core::fmt::Display for InvoiceStatus {
    fn fmt(&self, formatter: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        formatter.write_str(self.as_str())
    }
}
impl ::core::str::FromStr for InvoiceStatus {
    type Err = ::tenant_core::__private::serde::de::value::Error;
    fn from_str(text: &str) -> ::core::result::Result<Self, Self::Err> {
        match text {
            "draft" => ::core::result::Result::Ok(Self::Draft),
            "sent" => ::core::result::Result::Ok(Self::Sent),
            "settled" => ::core::result::Result::Ok(Self::Paid),
            _ => {
                ::core::result::Result::Err(
                    <Self::Err as ::tenant_core::__private::serde::de::Error>::unknown_variant(
                        text,
                        &["draft", "sent", "settled"],
                    ),
                )
            }
        }
    }
}
impl ::tenant_core::__private::FieldValue for InvoiceStatus {
    const TYPE: ::tenant_core::__private::FieldType = ::tenant_core::__private::FieldType::Choice(
        &["draft", "sent", "settled"],
    );
    fn into_value(self) -> ::tenant_core::__private::Value {
        ::tenant_core::__private::Value::Text(
            ::core::option::Option::Some(::std::string::String::from(self.as_str())),
        )
    }
    fn from_value(
        value: ::tenant_core::__private::Value,
    ) -> ::core::option::Option<Self> {
        match value {
            ::tenant_core::__private::Value::Text(::core::option::Option::Some(text)) => {
                ::core::str::FromStr::from_str(&text).ok()
            }
            _ => ::core::option::Option::None,
        }
    }
    fn read_nullable<__R: ::tenant_core::__private::RowReader + ?::core::marker::Sized>(
        row: &mut __R,
        column: &'static str,
    ) -> ::core::result::Result<
        ::core::option::Option<Self>,
        ::tenant_core::__private::DecodeError,
    > {
        match row.text(column)? {
            ::core::option::Option::None => {
                ::core::result::Result::Ok(::core::option::Option::None)
            }
            ::core::option::Option::Some(text) => {
                ::core::str::FromStr::from_str(&text)
                    .map(::core::option::Option::Some)
                    .map_err(|_| ::tenant_core::__private::DecodeError {
                        column,
                        expected: "one of the choices",
                        found: "another text",
                    })
            }
        }
    }
}
impl ::tenant_core::__private::Uniqueable for InvoiceStatus {}
impl ::tenant_core::__private::Orderable for InvoiceStatus {}
impl ::tenant_core::__private::Comparable for InvoiceStatus {}
impl ::tenant_core::__private::serde::Serialize for InvoiceStatus {
    fn serialize<__S>(
        &self,
        serializer: __S,
    ) -> ::core::result::Result<__S::Ok, __S::Error>
    where
        __S: ::tenant_core::__private::serde::Serializer,
    {
        serializer.serialize_str(self.as_str())
    }
}
impl<'de> ::tenant_core::__private::serde::Deserialize<'de> for InvoiceStatus {
    fn deserialize<__D>(deserializer: __D) -> ::core::result::Result<Self, __D::Error>
    where
        __D: ::tenant_core::__private::serde::Deserializer<'de>,
    {
        struct __Visitor;
        impl<'de> ::tenant_core::__private::serde::de::Visitor<'de> for __Visitor {
            type Value = InvoiceStatus;
            fn expecting(
                &self,
                formatter: &mut ::core::fmt::Formatter<'_>,
            ) -> ::core::fmt::Result {
                formatter.write_str("one of \"draft\", \"sent\", \"settled\"")
            }
            fn visit_str<__E>(
                self,
                text: &str,
            ) -> ::core::result::Result<InvoiceStatus, __E>
            where
                __E: ::tenant_core::__private::serde::de::Error,
            {
                match text {
                    "draft" => ::core::result::Result::Ok(InvoiceStatus::Draft),
                    "sent" => ::core::result::Result::Ok(InvoiceStatus::Sent),
                    "settled" => ::core::result::Result::Ok(InvoiceStatus::Paid),
                    _ => {
                        ::core::result::Result::Err(
                            __E::unknown_variant(text, &["draft", "sent", "settled"]),
                        )
                    }
                }
            }
        }
        deserializer.deserialize_str(__Visitor)
    }
}
