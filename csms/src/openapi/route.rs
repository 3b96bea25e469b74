//! A small builder over utoipa's types so that each route reads as one declaration: method,
//! path, who may call it, parameters, body, answers. It also collects the schemas a route
//! names, so the document can never refer to a component it does not define.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{Schema, SchemaFormat, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    ArrayBuilder, ContentBuilder, KnownFormat, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder,
};
use utoipa::{PartialSchema, ToSchema};

pub const JSON: &str = "application/json";
pub const PROBLEM: &str = "application/problem+json";

/// Who may call a route; the roles also go into the description, since OpenAPI's bearer
/// scheme has no notion of roles.
#[derive(Clone, Copy)]
pub enum Access {
    Public,
    /// Public, but a bearer token changes the answer (e.g. reveals the caller's own rows);
    /// a token that is sent must be valid.
    Optional(&'static str),
    AnyUser,
    Roles(&'static [&'static str]),
}

pub const OPERATOR: Access = Access::Roles(&["operator", "admin"]);
pub const HOST: Access = Access::Roles(&["host", "admin"]);
pub const ADMIN: Access = Access::Roles(&["admin"]);

pub struct Route {
    pub method: HttpMethod,
    /// Upper-case HTTP method, for callers that need a name (utoipa's enum has no Debug).
    pub method_name: &'static str,
    pub path: &'static str,
    description: String,
    op: OperationBuilder,
    pub schemas: Vec<(String, RefOr<Schema>)>,
}

impl Route {
    pub fn new(method: HttpMethod, path: &'static str, tag: &str, summary: &str) -> Self {
        let method_name = match method {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Trace => "TRACE",
        };
        let id = format!(
            "{}{}",
            method_name.to_lowercase(),
            path.replace(['/', '-', '{', '}', '|'], "_")
                .replace("__", "_")
                .trim_end_matches('_')
        );
        Self {
            method,
            method_name,
            path,
            description: String::new(),
            op: OperationBuilder::new()
                .tag(tag)
                .summary(Some(summary))
                .operation_id(Some(id)),
            schemas: Vec::new(),
        }
    }

    pub fn get(path: &'static str, tag: &str, summary: &str) -> Self {
        Self::new(HttpMethod::Get, path, tag, summary)
    }
    pub fn post(path: &'static str, tag: &str, summary: &str) -> Self {
        Self::new(HttpMethod::Post, path, tag, summary)
    }
    pub fn put(path: &'static str, tag: &str, summary: &str) -> Self {
        Self::new(HttpMethod::Put, path, tag, summary)
    }
    pub fn delete(path: &'static str, tag: &str, summary: &str) -> Self {
        Self::new(HttpMethod::Delete, path, tag, summary)
    }

    pub fn describe(mut self, text: &str) -> Self {
        self.description.push_str(text);
        self
    }

    /// Authenticated routes answer 401 without a valid token and 403 for a role not listed.
    pub fn access(mut self, access: Access) -> Self {
        let roles = match access {
            Access::Public => return self,
            Access::Optional(effect) => {
                self.description = format!(
                    "**Roles:** none needed; a bearer token is optional: {effect}.\n\n{}",
                    self.description
                );
                self.op = self
                    .op
                    .security(SecurityRequirement::default())
                    .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
                return self.problem(401, "A bearer token was sent but is malformed or expired");
            }
            Access::AnyUser => "any signed-in user".to_owned(),
            Access::Roles(r) => r.join(", "),
        };
        self.description = format!("**Roles:** {roles}.\n\n{}", self.description);
        self.op = self
            .op
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        self = self.problem(401, "Missing, malformed or expired access token");
        if matches!(access, Access::Roles(_)) {
            self = self.problem(403, "The caller's role does not allow this");
        }
        self
    }

    pub fn path_param(self, name: &str, description: &str) -> Self {
        self.param(ParameterIn::Path, name, description, string(), true)
    }
    pub fn uuid_param(self, name: &str, description: &str) -> Self {
        self.param(ParameterIn::Path, name, description, uuid(), true)
    }
    pub fn path_param_schema(self, name: &str, description: &str, schema: Schema) -> Self {
        self.param(ParameterIn::Path, name, description, schema, true)
    }
    pub fn query(self, name: &str, description: &str, schema: Schema) -> Self {
        self.param(ParameterIn::Query, name, description, schema, false)
    }
    pub fn required_query(self, name: &str, description: &str, schema: Schema) -> Self {
        self.param(ParameterIn::Query, name, description, schema, true)
    }

    fn param(
        mut self,
        place: ParameterIn,
        name: &str,
        description: &str,
        schema: Schema,
        required: bool,
    ) -> Self {
        let required = if required {
            Required::True
        } else {
            Required::False
        };
        self.op = self.op.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(place)
                .required(required)
                .description(Some(description))
                .schema(Some(schema)),
        );
        self
    }

    /// A required JSON body; every JSON body is parsed strictly (unknown fields are a 422).
    pub fn body<T: ToSchema>(mut self) -> Self {
        let schema = self.named::<T>();
        self.op = self.op.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(JSON, ContentBuilder::new().schema(Some(schema)).build())
                .build(),
        ));
        self.problem(
            422,
            "A field is missing, has the wrong type or breaks a rule (named in `errors`)",
        )
        .problem(400, "The body is not JSON")
        .problem(415, "The body is not `application/json`")
    }

    /// A required JSON body that is a plain array of `T`.
    pub fn body_array<T: ToSchema>(mut self) -> Self {
        let schema = self.named_array::<T>();
        self.op = self.op.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(JSON, ContentBuilder::new().schema(Some(schema)).build())
                .build(),
        ));
        self.problem(
            422,
            "A field is missing, has the wrong type or breaks a rule (named in `errors`)",
        )
        .problem(400, "The body is not JSON")
        .problem(415, "The body is not `application/json`")
    }

    /// A success answer whose body is a plain JSON array of `T`.
    pub fn ok_array<T: ToSchema>(mut self, status: u16, description: &str) -> Self {
        let schema = self.named_array::<T>();
        self.op = self.op.response(
            status.to_string(),
            ResponseBuilder::new()
                .description(description)
                .content(JSON, ContentBuilder::new().schema(Some(schema)).build()),
        );
        self
    }

    /// 429 problem+json with a `Retry-After` header (whole seconds).
    pub fn rate_limited(mut self, description: &str) -> Self {
        let retry_after = HeaderBuilder::new()
            .schema(integer(1, None, None))
            .description(Some("Seconds to wait before asking again"))
            .build();
        self.op = self.op.response(
            "429",
            ResponseBuilder::new()
                .description(description)
                .header("Retry-After", retry_after)
                .content(
                    PROBLEM,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                ),
        );
        self
    }

    /// A success answer with a JSON body.
    pub fn ok<T: ToSchema>(mut self, status: u16, description: &str) -> Self {
        let schema = self.named::<T>();
        self.op = self.op.response(
            status.to_string(),
            ResponseBuilder::new()
                .description(description)
                .content(JSON, ContentBuilder::new().schema(Some(schema)).build()),
        );
        self
    }

    /// A success answer with no body (204) or a non-JSON body described in words.
    pub fn empty(mut self, status: u16, description: &str) -> Self {
        self.op = self.op.response(
            status.to_string(),
            ResponseBuilder::new().description(description),
        );
        self
    }

    pub fn text(mut self, status: u16, content_type: &str, description: &str) -> Self {
        self.op = self.op.response(
            status.to_string(),
            ResponseBuilder::new().description(description).content(
                content_type,
                ContentBuilder::new().schema(Some(string())).build(),
            ),
        );
        self
    }

    /// An error answer: always RFC 9457 problem+json with a stable `code`.
    pub fn problem(mut self, status: u16, description: &str) -> Self {
        self.op = self.op.response(
            status.to_string(),
            ResponseBuilder::new().description(description).content(
                PROBLEM,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            ),
        );
        self
    }

    pub fn not_found(self, what: &str) -> Self {
        self.problem(
            404,
            &format!("No such {what} (or not visible to the caller)"),
        )
    }

    pub fn conflict(self, description: &str) -> Self {
        self.problem(409, description)
    }

    fn named<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let name = T::name().to_string();
        self.schemas
            .push((name.clone(), <T as PartialSchema>::schema()));
        T::schemas(&mut self.schemas);
        Ref::from_schema_name(name).into()
    }

    fn named_array<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let item = self.named::<T>();
        RefOr::T(Schema::Array(ArrayBuilder::new().items(item).build()))
    }

    pub fn build(self) -> (HttpMethod, &'static str, utoipa::openapi::path::Operation) {
        let op = if self.description.is_empty() {
            self.op
        } else {
            self.op.description(Some(self.description))
        };
        (self.method, self.path, op.build())
    }
}

pub fn string() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).into()
}

pub fn uuid() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .into()
}

pub fn date_time() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .into()
}

pub fn date() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .into()
}

pub fn boolean() -> Schema {
    ObjectBuilder::new().schema_type(Type::Boolean).into()
}

pub fn integer(min: i64, max: Option<i64>, default: Option<i64>) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min as f64))
        .maximum(max.map(|m| m as f64))
        .default(default.map(Into::into))
        .into()
}

pub fn one_of(values: &[&str]) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .into()
}

pub fn number(
    min: Option<f64>,
    exclusive_min: bool,
    max: Option<f64>,
    default: Option<f64>,
) -> Schema {
    let mut b = ObjectBuilder::new().schema_type(Type::Number);
    b = if exclusive_min {
        b.exclusive_minimum(min)
    } else {
        b.minimum(min)
    };
    b.maximum(max).default(default.map(Into::into)).into()
}

/// A schema that is exactly one of other named schemas (a serde untagged or tagged enum),
/// e.g. `one_of_schema!(LoginAnswer = TokenPair | MfaRequired);`. With `tag = "field"` the
/// document names the discriminator property too.
macro_rules! one_of_schema {
    ($(#[$meta:meta])* $name:ident $(tag $tag:literal)? = $($t:ty)|+) => {
        $(#[$meta])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                #[allow(unused_mut)]
                let mut builder = utoipa::openapi::schema::OneOfBuilder::new()
                    $(.item(utoipa::openapi::Ref::from_schema_name(
                        <$t as utoipa::ToSchema>::name(),
                    )))+;
                $(
                    builder = builder.discriminator(Some(
                        utoipa::openapi::schema::Discriminator::new($tag),
                    ));
                )?
                builder.into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }

            fn schemas(
                out: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                $(
                    out.push((
                        <$t as utoipa::ToSchema>::name().into_owned(),
                        <$t as utoipa::PartialSchema>::schema(),
                    ));
                    <$t as utoipa::ToSchema>::schemas(out);
                )+
            }
        }
    };
}
pub(crate) use one_of_schema;
