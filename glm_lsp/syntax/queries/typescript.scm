; Definitions (the export_statement around one is kept: its text is what a reader sees).
(export_statement declaration: [
  (function_declaration name: (identifier) @name body: (statement_block) @body)
  (generator_function_declaration name: (identifier) @name body: (statement_block) @body)
]) @definition.function
(function_declaration name: (identifier) @name body: (statement_block) @body) @definition.function
(generator_function_declaration name: (identifier) @name body: (statement_block) @body) @definition.function
(export_statement declaration: (function_signature name: (identifier) @name)) @definition.function
(function_signature name: (identifier) @name) @definition.function
(export_statement declaration: [
  (class_declaration name: (type_identifier) @name body: (class_body) @body)
  (abstract_class_declaration name: (type_identifier) @name body: (class_body) @body)
]) @definition.class
(class_declaration name: (type_identifier) @name body: (class_body) @body) @definition.class
(abstract_class_declaration name: (type_identifier) @name body: (class_body) @body) @definition.class
(export_statement declaration: [
  (interface_declaration name: (type_identifier) @name body: (_) @body)
  (type_alias_declaration name: (type_identifier) @name)
  (enum_declaration name: (identifier) @name body: (enum_body) @body)
]) @definition.type
(interface_declaration name: (type_identifier) @name body: (_) @body) @definition.type
(type_alias_declaration name: (type_identifier) @name) @definition.type
(enum_declaration name: (identifier) @name body: (enum_body) @body) @definition.type
(export_statement declaration: [
  (lexical_declaration (variable_declarator name: (identifier) @name))
  (variable_declaration (variable_declarator name: (identifier) @name))
]) @definition.value
(lexical_declaration (variable_declarator name: (identifier) @name)) @definition.value
(variable_declaration (variable_declarator name: (identifier) @name)) @definition.value
(ambient_declaration [
  (function_signature name: (identifier) @name)
  (class_declaration name: (type_identifier) @name)
  (lexical_declaration (variable_declarator name: (identifier) @name))
]) @definition.value

(class_declaration name: (type_identifier) @container
  body: (class_body (method_definition name: (property_identifier) @name body: (statement_block) @body) @definition.method))
(abstract_class_declaration name: (type_identifier) @container
  body: (class_body (method_definition name: (property_identifier) @name body: (statement_block) @body) @definition.method))

; Imports: `import … from`, `require(…)`; re-exports of a barrel file.
(import_statement) @import
(lexical_declaration (variable_declarator value: (call_expression function: (identifier) @_require (#eq? @_require "require")))) @import
(variable_declaration (variable_declarator value: (call_expression function: (identifier) @_require (#eq? @_require "require")))) @import
(export_statement source: (string)) @reexport

; Names the code binds.
(required_parameter pattern: (identifier) @local)
(optional_parameter pattern: (identifier) @local)
(required_parameter pattern: (rest_pattern (identifier) @local))
(arrow_function parameter: (identifier) @local)
(variable_declarator name: (identifier) @local)
(variable_declarator name: (object_pattern (shorthand_property_identifier_pattern) @local))
(variable_declarator name: (array_pattern (identifier) @local))
(function_declaration name: (identifier) @local)
(class_declaration name: (type_identifier) @local)
(interface_declaration name: (type_identifier) @local)
(type_alias_declaration name: (type_identifier) @local)
(enum_declaration name: (identifier) @local)
(for_in_statement left: (identifier) @local)
(catch_clause parameter: (identifier) @local)

; Variables whose type is known: `u: User`, `const u = new User(…)`.
(required_parameter pattern: (identifier) @receiver.var type: (type_annotation (type_identifier) @receiver.type))
(optional_parameter pattern: (identifier) @receiver.var type: (type_annotation (type_identifier) @receiver.type))
(variable_declarator name: (identifier) @receiver.var type: (type_annotation (type_identifier) @receiver.type))
(variable_declarator name: (identifier) @receiver.var value: (new_expression constructor: (identifier) @receiver.type))
(public_field_definition name: (property_identifier) @receiver.var type: (type_annotation (type_identifier) @receiver.type))
