/* forms.h - tier-B special forms lowered to simpler forms before analysis:
 * match, define-record-type, defmulti/defmethod, module/import. */
#ifndef SEMA_FORMS_H
#define SEMA_FORMS_H

#include "vm.h"

Value forms_lower_match(VM *vm, Value form, uint32_t pos);
Value forms_lower_define_record_type(VM *vm, Value form, uint32_t pos);
Value forms_lower_defmulti(VM *vm, Value form, uint32_t pos);
Value forms_lower_defmethod(VM *vm, Value form, uint32_t pos);
Value forms_lower_module(VM *vm, Value form, uint32_t pos);
Value forms_lower_import(VM *vm, Value form, uint32_t pos);
void forms_register_helpers(VM *vm);

#endif
