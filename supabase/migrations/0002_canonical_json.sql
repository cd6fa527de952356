-- RFC 8785 (JSON Canonicalization Scheme) in SQL, so that the server computes exactly the bytes the
-- client computes in src/shared/canonicalJson.ts: object keys sorted by UTF-16 code units, no
-- whitespace, strings escaped as ECMAScript JSON.stringify does, numbers as IEEE 754 doubles in
-- ECMAScript Number.prototype.toString form. test/db/canonicalJson.test.ts proves both agree.

-- A sort key that orders strings by UTF-16 code units (RFC 8785 section 3.2.3). UTF-8 byte order
-- (collation "C") equals it except around supplementary characters, which are rare in keys.
create function cs_private.utf16_sort_key(s text) returns text
language sql immutable strict parallel safe
set search_path = ''
as $$
  select string_agg(
    case
      when ascii(ch) > 65535 then
        lpad(to_hex(55296 + ((ascii(ch) - 65536) >> 10)), 4, '0') ||
        lpad(to_hex(56320 + ((ascii(ch) - 65536) & 1023)), 4, '0')
      else lpad(to_hex(ascii(ch)), 4, '0')
    end, '' order by ord)
  from regexp_split_to_table(s, '') with ordinality as t(ch, ord)
$$;

-- ECMAScript Number::toString of the double nearest to n (RFC 8785 section 3.2.2.3).
create function cs_private.canonical_number(n numeric) returns text
language plpgsql immutable strict parallel safe
set search_path = ''
set extra_float_digits = 1
as $$
declare
  f double precision := n::double precision;  -- raises for numbers outside the double range
  s text;
  sign text := '';
  mantissa text;
  exp10 int := 0;
  int_part text;
  digits text;
  point int;
  lead_zeros int;
  k int;
begin
  if f = 0 then
    return '0';
  end if;
  s := f::text;  -- shortest round-trip digits (Ryu) with extra_float_digits = 1
  if left(s, 1) = '-' then
    sign := '-';
    s := substr(s, 2);
  end if;
  if position('e' in s) > 0 then
    mantissa := split_part(s, 'e', 1);
    exp10 := split_part(s, 'e', 2)::int;
  else
    mantissa := s;
  end if;
  int_part := split_part(mantissa, '.', 1);
  digits := int_part || split_part(mantissa, '.', 2);
  point := length(int_part) + exp10;
  lead_zeros := length(digits) - length(ltrim(digits, '0'));
  digits := rtrim(ltrim(digits, '0'), '0');
  point := point - lead_zeros;
  k := length(digits);
  if k <= point and point <= 21 then
    return sign || digits || repeat('0', point - k);
  elsif 0 < point and point <= 21 then
    return sign || left(digits, point) || '.' || substr(digits, point + 1);
  elsif -6 < point and point <= 0 then
    return sign || '0.' || repeat('0', -point) || digits;
  else
    return sign || left(digits, 1)
      || case when k > 1 then '.' || substr(digits, 2) else '' end
      || 'e' || case when point - 1 > 0 then '+' else '-' end || abs(point - 1)::text;
  end if;
end
$$;

create function cs_private.canonical_json(v jsonb) returns text
language plpgsql immutable strict parallel safe
set search_path = ''
as $$
declare
  kind text := jsonb_typeof(v);
  result text;
begin
  if kind = 'object' then
    if exists (select 1 from jsonb_object_keys(v) as k where k ~ '[\U00010000-\U0010FFFF]') then
      select string_agg(to_json(k)::text || ':' || cs_private.canonical_json(v -> k), ','
                        order by cs_private.utf16_sort_key(k))
        into result from jsonb_object_keys(v) as k;
    else
      select string_agg(to_json(k)::text || ':' || cs_private.canonical_json(v -> k), ','
                        order by k collate "C")
        into result from jsonb_object_keys(v) as k;
    end if;
    return '{' || coalesce(result, '') || '}';
  elsif kind = 'array' then
    select string_agg(cs_private.canonical_json(e), ',' order by i)
      into result from jsonb_array_elements(v) with ordinality as a(e, i);
    return '[' || coalesce(result, '') || ']';
  elsif kind = 'string' then
    -- PostgreSQL escapes exactly as ECMAScript: \" \\ \b \f \n \r \t, other controls as \u00xx.
    return to_json(v #>> '{}')::text;
  elsif kind = 'number' then
    return cs_private.canonical_number((v #>> '{}')::numeric);
  elsif kind = 'boolean' then
    return v::text;
  else
    return 'null';
  end if;
end
$$;

create function cs_private.sha256_hex(s text) returns text
language sql immutable strict parallel safe
set search_path = ''
as $$ select encode(sha256(convert_to(s, 'UTF8')), 'hex') $$;

-- The content hash used everywhere a JSON value is hashed: SHA-256 over its RFC 8785 form.
create function cs_private.json_sha256(v jsonb) returns text
language sql immutable strict parallel safe
set search_path = ''
as $$ select cs_private.sha256_hex(cs_private.canonical_json(v)) $$;
