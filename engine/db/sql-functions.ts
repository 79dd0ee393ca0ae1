/**
 * Hot statements kept as plpgsql functions. A statement sent through knex is unnamed and
 * planned on every call (a transaction-mode pooler rules out named prepared statements); a
 * function's statement is planned once per database session and its plan kept. Each
 * function is created by a migration from the text its module holds, and
 * test/db/sql-functions.test.ts fails when that text changes without a migration that
 * recreates the function (`create or replace`, from the same text).
 */
export interface SqlFunction {
  name: string;
  /** `requests json`, `p_limit int, p_in_flight int`... */
  params: string;
  /** `table (moved int, held boolean)`. */
  returns: string;
  /** One statement, its parameters referred to by name. */
  body: string;
}

export function createFunctionSql(fn: SqlFunction): string {
  return `create or replace function ${fn.name}(${fn.params})
  returns ${fn.returns} language plpgsql
  set plan_cache_mode = force_generic_plan as $fn$
  #variable_conflict use_column
  begin
    return query ${fn.body};
  end $fn$`;
}
