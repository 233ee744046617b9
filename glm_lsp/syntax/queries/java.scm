; Definitions.
(class_declaration name: (identifier) @name body: (class_body) @body) @definition.class
(interface_declaration name: (identifier) @name body: (interface_body) @body) @definition.class
(enum_declaration name: (identifier) @name body: (enum_body) @body) @definition.class
(record_declaration name: (identifier) @name body: (class_body) @body) @definition.class
(annotation_type_declaration name: (identifier) @name body: (annotation_type_body) @body) @definition.class

; Methods, keyed Class.name.
([(class_declaration name: (identifier) @container body: (class_body [
    (method_declaration name: (identifier) @name) @definition.method
    (constructor_declaration name: (identifier) @name) @definition.method
  ]))
  (interface_declaration name: (identifier) @container body: (interface_body
    (method_declaration name: (identifier) @name) @definition.method))
  (record_declaration name: (identifier) @container body: (class_body
    (method_declaration name: (identifier) @name) @definition.method))
  (enum_declaration name: (identifier) @container body: (enum_body (enum_body_declarations
    (method_declaration name: (identifier) @name) @definition.method)))])

; Imports.
(package_declaration) @import
(import_declaration) @import

; Names the code binds.
(formal_parameter name: (identifier) @local)
(spread_parameter (variable_declarator name: (identifier) @local))
(local_variable_declaration declarator: (variable_declarator name: (identifier) @local))
(enhanced_for_statement name: (identifier) @local)
(catch_formal_parameter name: (identifier) @local)
(lambda_expression parameters: (identifier) @local)
(inferred_parameters (identifier) @local)

; Variables whose type is known: `Inventory inv`, `var inv = new Inventory()`.
(formal_parameter type: (type_identifier) @receiver.type name: (identifier) @receiver.var)
(local_variable_declaration type: (type_identifier) @receiver.type
  declarator: (variable_declarator name: (identifier) @receiver.var))
(local_variable_declaration
  declarator: (variable_declarator name: (identifier) @receiver.var
    value: (object_creation_expression type: (type_identifier) @receiver.type)))
(field_declaration type: (type_identifier) @receiver.type
  declarator: (variable_declarator name: (identifier) @receiver.var))
