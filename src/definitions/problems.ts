/** Collects definition problems so one run reports all of them, each naming its object and field. */
export class Problems {
  constructor(
    private readonly sink: string[] = [],
    private readonly subject = "",
  ) {}

  get list(): readonly string[] {
    return this.sink;
  }

  /** A collector into the same list whose messages start with `kind "name"`. */
  for(kind: string, name: unknown): Problems {
    return new Problems(this.sink, `${kind} "${typeof name === "string" ? name : "?"}"`);
  }

  add(field: string | undefined, message: string): void {
    const where = [this.subject, field === undefined ? undefined : `field "${field}"`].filter((w) => w !== undefined && w !== "");
    this.sink.push(`${where.join(" ")}: ${message}`);
  }
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkName(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value !== "string" || !identifier.test(value)) {
    problems.add(field, `${JSON.stringify(value)} is not a valid name (letters, digits and _, not starting with a digit)`);
    return false;
  }
  if (value.startsWith("__")) {
    problems.add(field, `"${value}" starts with "__", which Strata reserves for internal columns`);
    return false;
  }
  return true;
}

export function checkMetadata(
  problems: Problems,
  input: { description?: unknown; owner?: unknown; tags?: unknown },
): { description: string; owner: string; tags: Record<string, string> } {
  const text = (field: string, value: unknown): string => {
    if (value === undefined) return "";
    if (typeof value === "string") return value;
    problems.add(field, `expected a string, got ${typeof value}`);
    return "";
  };
  const tags: Record<string, string> = {};
  if (input.tags !== undefined) {
    if (typeof input.tags !== "object" || input.tags === null || Array.isArray(input.tags)) problems.add("tags", "expected an object of string values");
    else {
      for (const key of Object.keys(input.tags).sort()) {
        const value = (input.tags as Record<string, unknown>)[key];
        if (typeof value === "string") tags[key] = value;
        else problems.add(`tags.${key}`, `expected a string, got ${typeof value}`);
      }
    }
  }
  return { description: text("description", input.description), owner: text("owner", input.owner), tags };
}
