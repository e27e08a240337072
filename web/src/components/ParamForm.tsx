// Inputs generated from a strategy's declared parameters.
import { describeRange, type ParamSchema, type ParamValues } from '../lib/params';
import { Field } from './ui';

export function ParamForm({
  schema,
  values,
  errors,
  onChange,
  prefix,
}: {
  schema: Record<string, ParamSchema>;
  values: ParamValues;
  errors: Record<string, string>;
  onChange: (values: ParamValues) => void;
  prefix: string;
}) {
  const names = Object.keys(schema);
  if (names.length === 0) return <p className="muted">This strategy takes no parameters.</p>;
  return (
    <div className="params">
      {names.map((name) => {
        const param = schema[name];
        if (!param) return null;
        const hint = [param.description, describeRange(param), param.type].filter(Boolean).join(' · ');
        const value = values[name] ?? '';
        const set = (next: string) => onChange({ ...values, [name]: next });
        return (
          <Field key={name} label={name} error={errors[name]} hint={hint}>
            {param.choices ? (
              <select name={`${prefix}-${name}`} value={value} onChange={(e) => set(e.target.value)}>
                {param.choices.map((choice) => (
                  <option key={String(choice)} value={String(choice)}>
                    {String(choice)}
                  </option>
                ))}
              </select>
            ) : param.type === 'bool' ? (
              <select name={`${prefix}-${name}`} value={value} onChange={(e) => set(e.target.value)}>
                <option value="true">true</option>
                <option value="false">false</option>
              </select>
            ) : (
              <input
                name={`${prefix}-${name}`}
                inputMode={param.type === 'int' ? 'numeric' : 'decimal'}
                value={value}
                onChange={(e) => set(e.target.value)}
              />
            )}
          </Field>
        );
      })}
    </div>
  );
}
