; Definitions: @definition.<kind> on the node whose text is shown, @name, @body.
(decorated_definition
  definition: (function_definition name: (identifier) @name body: (block) @body)) @definition.function
(function_definition name: (identifier) @name body: (block) @body) @definition.function
(decorated_definition
  definition: (class_definition name: (identifier) @name body: (block) @body)) @definition.class
(class_definition name: (identifier) @name body: (block) @body) @definition.class
(expression_statement (assignment left: (identifier) @name)) @definition.value

; Methods, keyed Container.name.
(class_definition name: (identifier) @container
  body: (block [
    (function_definition name: (identifier) @name body: (block) @body) @definition.method
    (decorated_definition
      definition: (function_definition name: (identifier) @name body: (block) @body)) @definition.method
  ]))

; Imports: the statements; glm_lsp/syntax/imports.py reads them.
(import_statement) @import
(import_from_statement) @import

; Names the code binds (they shadow an import of the same name).
(parameters (identifier) @local)
(typed_parameter (identifier) @local)
(default_parameter name: (identifier) @local)
(typed_default_parameter name: (identifier) @local)
(list_splat_pattern (identifier) @local)
(dictionary_splat_pattern (identifier) @local)
(assignment left: (identifier) @local)
(assignment left: (pattern_list (identifier) @local))
(for_statement left: (identifier) @local)
(for_statement left: (pattern_list (identifier) @local))
(as_pattern alias: (as_pattern_target (identifier) @local))
(with_item value: (as_pattern alias: (as_pattern_target (identifier) @local)))
(function_definition name: (identifier) @local)
(class_definition name: (identifier) @local)

; Variables whose type is known: `inv: Inventory`, `inv = Inventory(...)`.
(typed_parameter (identifier) @receiver.var type: (type (identifier) @receiver.type))
(typed_default_parameter name: (identifier) @receiver.var type: (type (identifier) @receiver.type))
(assignment left: (identifier) @receiver.var type: (type (identifier) @receiver.type))
(assignment left: (identifier) @receiver.var right: (call function: (identifier) @receiver.type))
(assignment left: (identifier) @receiver.var
  right: (call function: (attribute object: (identifier) @receiver.type attribute: (identifier))))
