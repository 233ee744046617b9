; Definitions.
(function_declaration name: (identifier) @name body: (block) @body) @definition.function
(method_declaration
  receiver: (parameter_list (parameter_declaration type: [
    (type_identifier) @container
    (pointer_type (type_identifier) @container)
    (generic_type type: (type_identifier) @container)
    (pointer_type (generic_type type: (type_identifier) @container))
  ]))
  name: (field_identifier) @name body: (block) @body) @definition.method
(type_declaration (type_spec name: (type_identifier) @name type: [(struct_type) (interface_type)] @body)) @definition.type
(type_declaration (type_spec name: (type_identifier) @name)) @definition.type
(type_declaration (type_alias name: (type_identifier) @name)) @definition.type
(var_declaration (var_spec name: (identifier) @name)) @definition.value
(const_declaration (const_spec name: (identifier) @name)) @definition.value

; Imports.
(import_declaration) @import

; Names the code binds.
(parameter_declaration name: (identifier) @local)
(variadic_parameter_declaration name: (identifier) @local)
(short_var_declaration left: (expression_list (identifier) @local))
(var_spec name: (identifier) @local)
(const_spec name: (identifier) @local)
(range_clause left: (expression_list (identifier) @local))
(function_declaration name: (identifier) @local)
(type_spec name: (type_identifier) @local)

; Variables whose type is known: `c *Cart`, `var c cart.Cart`, `c := cart.Cart{}`, `&Cart{}`.
(parameter_declaration name: (identifier) @receiver.var type: [
  (type_identifier) @receiver.type
  (qualified_type) @receiver.type
  (pointer_type [(type_identifier) (qualified_type)] @receiver.type)
])
(var_spec name: (identifier) @receiver.var type: [
  (type_identifier) @receiver.type
  (qualified_type) @receiver.type
  (pointer_type [(type_identifier) (qualified_type)] @receiver.type)
])
(short_var_declaration left: (expression_list . (identifier) @receiver.var)
  right: (expression_list . [
    (composite_literal type: [(type_identifier) (qualified_type)] @receiver.type)
    (unary_expression operand: (composite_literal type: [(type_identifier) (qualified_type)] @receiver.type))
  ]))
