import { BadRequestException, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';

/** A UUID path parameter, declared as `format: uuid`; anything else is a 400 naming the parameter. */
export function UuidParam(name: string): ParameterDecorator {
  const param = Param(
    name,
    new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException({ message: `${name} must be a UUID`, field: name }) }),
  );
  return (target, key, index) => {
    param(target, key, index);
    // Parameter decorators run after the method exists, so the method-level OpenAPI metadata can be added here.
    if (key !== undefined) ApiParam({ name, type: String, format: 'uuid' })(target, key, Object.getOwnPropertyDescriptor(target, key)!);
  };
}
